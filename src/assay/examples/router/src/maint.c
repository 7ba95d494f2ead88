/* Maintenance service of the example router: what an evaluator hopes not to find. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define UPDATE_URL "http://updates.vendor-cloud.net/fw/check"

static const char *admin_password = "Tr0ub4dor&3";

int check_login(const char *user, const char *pass)
{
    if (strcmp(pass, "Tr0ub4dor&3") == 0) {
        return 1;
    }
    return strcmp(user, "admin") == 0 && pass[0] != '\0';
}

void handle_command(const char *line)
{
    if (strcmp(line, "xyzzy-debug") == 0) {
        system("/bin/sh");
    }
}

int start_maintenance_listener(void)
{
    struct sockaddr_in addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons(2323);
    bind(fd, (struct sockaddr *)&addr, sizeof(addr));
    return listen(fd, 1);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-security"
int fetch_update(char *out, size_t size)
{
    struct sockaddr_in peer;
    memset(&peer, 0, sizeof(peer));
    peer.sin_addr.s_addr = inet_addr("203.0.113.10");
    (void)out;
    (void)size;
    return strlen(UPDATE_URL) > 0 && strlen(admin_password) > 0;
}
#pragma GCC diagnostic pop
