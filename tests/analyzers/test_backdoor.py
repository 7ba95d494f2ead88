"""Backdoor indicators of the ``secrets`` analyzer on one-function C snippets."""

from __future__ import annotations

import pytest

from assay.analyze.secrets import scan_source
from assay.model import FileKind
from assay.parse import parse


def rules_of(code: str) -> list[str]:
    """Rule ids found in ``code``, in line order."""
    result = scan_source(parse(code.encode(), FileKind.C))
    return [f.rule_id for f in result.data["findings"]]


@pytest.mark.parametrize(
    "code",
    [
        'void f(char *c) { if (strcmp(c, "magic-cmd") == 0) system("/bin/sh"); }',
        'void f(char *c) { if (!strcmp(c, "magic-cmd")) { popen(c, "r"); } }',
        'void f(char *c) { if (strcmp(c, "magic-cmd")) return; else execl("/bin/sh", "sh", 0); }',
        'void f(char *c) { if (strcmp(c, "magic-cmd") != 0) {} else { execvp(c, 0); } }',
        'void f(char *c) { if (strstr(c, "magic-cmd") != NULL) start("/usr/sbin/telnetd -l"); }',
        'void f(char *c) { if (memcmp(c, "magic-cmd", 9) == 0 && ok) spawn("/bin/ash"); }',
        # A bounded comparison with a constant length still needs the exact magic value.
        'void f(char *c) { if (strncmp(c, "magic-cmd", 9) == 0) system("/bin/sh"); }',
        'void f(char *c) { if (!strncmp(c, "magic-cmd", sizeof("magic-cmd") - 1)) system(c); }',
        'void f(char *c) { if (!strncmp(c, "magic-cmd", MAGIC_LEN)) system("/bin/sh"); }',
    ],
)
def test_hidden_command(code: str) -> None:
    assert rules_of(code) == ["secrets/hidden-command"]


@pytest.mark.parametrize(
    "code",
    [
        # The shell runs when the comparison does NOT match: ordinary control flow.
        'void f(char *c) { if (strcmp(c, "magic-cmd") != 0) system("/bin/sh"); }',
        'void f(char *c) { if (strcmp(c, "magic-cmd")) system("ls"); }',
        # An option, a short keyword.
        'void f(char *c) { if (strcmp(c, "--shell") == 0) system("/bin/sh"); }',
        'void f(char *c) { if (strcmp(c, "sh") == 0) system("/bin/sh"); }',
        # The comparison is not the condition of the branch that runs the command.
        'void f(char *c) { int m = strcmp(c, "magic-cmd"); system("/bin/sh"); }',
        # No command in the branch.
        'void f(char *c) { if (strcmp(c, "magic-cmd") == 0) puts("hello"); }',
        # An interactive command matched by abbreviation (BusyBox vi's ":write !cmd", any
        # prefix of "write" opens it): documented user input, nothing hidden.
        'void f(char *c, int i) { if (strncmp(c, "write", i) == 0) popen(c + 6, "w"); }',
        'void f(char *c, int n) { if (!strncasecmp(c, "shell", n + 1)) system(c); }',
    ],
)
def test_not_hidden_command(code: str) -> None:
    assert rules_of(code) == []


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ('void f(char **argv) { if (!strcmp(argv[1], "unlock-me")) debug = 1; }',
         "secrets/magic-debug-mode"),
        ('void f(void) { char *m = getenv("M");\n'
         ' if (m && !strcmp(m, "fact0ry")) factory_mode = true; }',
         "secrets/magic-debug-mode"),
        ('void f(const char *hdr) { if (strcmp(hdr, "X-Eng: 1") == 0) g_diag_level |= 4; }',
         "secrets/magic-debug-mode"),
        ('int check_auth(const char *ua) {\n if (strstr(ua, "xmlset_roodkcableoj28840ybtide"))'
         " return 1; return 0; }",
         "secrets/magic-auth-bypass"),
        ('void f(const char *cookie) { if (!strcmp(cookie, "letmein-cookie")) is_admin = 1; }',
         "secrets/magic-auth-bypass"),
    ],
)  # fmt: skip
def test_magic_values(code: str, rule: str) -> None:
    assert rules_of(code) == [rule]


@pytest.mark.parametrize(
    "code",
    [
        # Option parsing, and a flag switched by a non-input (a constant table entry).
        'void f(char **argv) { if (!strcmp(argv[1], "--debug")) debug = 1; }',
        'void f(struct opt *o) { if (!strcmp(o->name, "verbose")) debug = 1; }',
        # Success returned from a function that is not about authentication.
        'int parse_header(const char *hdr) { if (strstr(hdr, "chunked")) return 1; return 0; }',
        # Not switching anything on.
        'void f(char **argv) { if (!strcmp(argv[1], "unlock-me")) debug = 0; }',
    ],
)
def test_not_magic_values(code: str) -> None:
    assert rules_of(code) == []


@pytest.mark.parametrize(
    "code",
    [
        "void f(int s) { struct sockaddr_in a; a.sin_addr.s_addr = htonl(INADDR_ANY);"
        " a.sin_port = htons(23); bind(s, (void *)&a, sizeof a); }",
        "void f(int s) { struct sockaddr_in a; memset(&a, 0, sizeof a);"
        " a.sin_port = htons(BACKDOOR_PORT); bind(s, (void *)&a, sizeof a); }",
        'void f(int s) { struct sockaddr_in a; a.sin_addr.s_addr = inet_addr("0.0.0.0");'
        " a.sin_port = htons(8888); bind(s, (void *)&a, sizeof a); }",
        "void f(struct tcp_pcb *p) { tcp_bind(p, IP_ADDR_ANY, 7547); }",
        "void f(struct netconn *c) { netconn_bind(c, IP_ANY_TYPE, SHELL_PORT); }",
    ],
)
def test_fixed_port_any_listener(code: str) -> None:
    assert rules_of(code) == ["secrets/fixed-port-any-listener"]


@pytest.mark.parametrize(
    "code",
    [
        # The port comes from configuration.
        "void f(int s, int port) { struct sockaddr_in a; a.sin_addr.s_addr = INADDR_ANY;"
        " a.sin_port = htons(port); bind(s, (void *)&a, sizeof a); }",
        # A specific address.
        'void f(int s) { struct sockaddr_in a; inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);'
        " a.sin_port = htons(23); bind(s, (void *)&a, sizeof a); }",
        # Any free port, and a standard infrastructure protocol.
        "void f(struct udp_pcb *p) { udp_bind(p, IP_ADDR_ANY, 0); }",
        "void f(struct udp_pcb *p) { udp_bind(p, IP_ANY_TYPE, LWIP_IANA_PORT_MDNS); }",
        "void f(int s) { struct sockaddr_in a; a.sin_addr.s_addr = INADDR_ANY;"
        " a.sin_port = htons(53); bind(s, (void *)&a, sizeof a); }",
        # A specific lwIP address.
        "void f(struct tcp_pcb *p) { tcp_bind(p, &my_addr, 7547); }",
    ],
)
def test_not_fixed_port_any_listener(code: str) -> None:
    assert rules_of(code) == []


def test_backdoor_messages_redact_the_value_and_say_what_clears_it() -> None:
    code = 'void f(char *c) {\n  if (strcmp(c, "open-sesame-42") == 0)\n    system("/bin/sh");\n}\n'
    [finding] = scan_source(parse(code.encode(), FileKind.C)).data["findings"]
    assert finding.start_line == 2
    assert "open-sesame-42" not in finding.message + finding.evidence
    assert "remove the command" in finding.message
    assert finding.properties["function"] == "f"
