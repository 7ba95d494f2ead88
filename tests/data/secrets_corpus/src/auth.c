/* Recall corpus: input compared with literal credentials (all values are made up). */
#include <string.h>

int check_password(const char *user, const char *password)
{
    if (strcmp(password, "Sup3r-S3cret") == 0)  /* expect: secrets/literal-auth-compare */
        return 1;
    return 0;
}

int login_ok(const char *pass)
{
    return !strncmp(pass, "letmein42", 9);  /* expect: secrets/literal-auth-compare */
}

int verify_pin(const unsigned char *passcode, size_t len)
{
    return len == 6 && memcmp(passcode, "314159", 6) == 0;  /* expect: secrets/literal-auth-compare */
}

int is_empty(const char *password)
{
    /* Not a secret: the empty string. */
    return strcmp(password, "") == 0;
}
