/* Recall corpus: accounts and credentials written into the code (all values are made up). */
#include <string.h>

static const char *admin_password = "Adm1n!2024";  /* expect: secrets/credential-literal */
#define ROOT_PASSWD "r00t-r00t"  /* expect: secrets/credential-literal */
char api_key[] = "AKIA0123456789CORPUS";  /* expect: secrets/credential-literal */

struct cloud {
    const char *host;
    const char *access_token;
};

static const struct cloud uplink = {
    .host = "cloud.invalid",
    .access_token = "tok_9f8e7d6c5b4a",  /* expect: secrets/credential-literal */
};

/* Baked into the image as a shadow line. */
static const char *factory_shadow =
    "root:$5$saltsalt$Gbd.MCwXRvy6HhmvX4eRmWJUkNrTfVxdJZ0PlBfTaW9:0:0:::";  /* expect: secrets/password-hash */

/* Not credentials: a prompt, a label and an environment variable name. */
static const char *password_prompt = "Enter password: ";
static const char *passwd_env = "APP_PASSWORD";
static const char *password = "password";
