/* Recall corpus: hidden commands that spawn a shell or telnetd (values made up). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_dispatch(const char *cmd)
{
    if (strcmp(cmd, "xyzzy-debug-shell") == 0) {  /* expect: secrets/hidden-command */
        system("/bin/sh");
    }
}

void http_handler(const char *path)
{
    if (!strcmp(path, "/goform/telnet_on_7788")) {  /* expect: secrets/hidden-command */
        system("/usr/sbin/telnetd -l /bin/sh -p 2323 &");
    }
}

void serial_console(const char *line)
{
    if (strncmp(line, "vendor_maint", 12) != 0) {  /* expect: secrets/hidden-command */
        return;
    } else {
        execl("/bin/sh", "sh", (char *)0);
    }
}

void udp_packet(const char *buf)
{
    if (strstr(buf, "HELODBG")) {  /* expect: secrets/hidden-command */
        FILE *out = popen(buf + 8, "r");
        pclose(out);
    }
}

void options(int argc, char **argv)
{
    /* Not hidden: an ordinary command-line option. */
    if (argc > 1 && strcmp(argv[1], "--shell") == 0)
        execl("/bin/sh", "sh", (char *)0);
}
