/* Recall corpus: magic values that switch debug/factory modes or bypass authentication. */
#include <stdlib.h>
#include <string.h>

int factory_mode;
int debug_enabled;
int authenticated;

void boot_env(void)
{
    const char *mode = getenv("BOOT_MODE");
    if (mode && strcmp(mode, "factory-7788") == 0)  /* expect: secrets/magic-debug-mode */
        factory_mode = 1;
}

void parse_args(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[2], "engineering_unlock"))  /* expect: secrets/magic-debug-mode */
        debug_enabled = 1;
}

void on_header(const char *header)
{
    if (strcasecmp(header, "X-Debug: 0xC0FFEE") == 0) {  /* expect: secrets/magic-debug-mode */
        debug_enabled++;
    }
}

int web_auth(const char *user_agent)
{
    if (strstr(user_agent, "xmlset_roodkcableoj28840ybtide"))  /* expect: secrets/magic-auth-bypass */
        return 1;
    return 0;
}

void check_cookie(const char *cookie)
{
    if (strcmp(cookie, "session=ffffffffdeadbeef") == 0)  /* expect: secrets/magic-auth-bypass */
        authenticated = 1;
}

int auth_request(const char *query)
{
    if (strstr(query, "bypass_token=7a1c"))  /* expect: secrets/magic-auth-bypass */
        return AUTH_OK;
    return AUTH_FAILED;
}

void verbose(int argc, char **argv)
{
    /* Not magic: an ordinary option. */
    if (argc > 1 && strcmp(argv[1], "--debug") == 0)
        debug_enabled = 1;
}
