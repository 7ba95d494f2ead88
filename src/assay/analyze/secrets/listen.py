"""``fixed-port-any-listener``: a socket bound to every interface on a port fixed in the code.

A BSD ``bind()`` counts when its function sets the port from a constant (``htons(2323)``,
``htons(DEBUG_PORT)``) and the address is the wildcard (``INADDR_ANY``, ``in6addr_any``,
``"0.0.0.0"``) or is never set (a zeroed ``sockaddr`` is the wildcard). lwIP's ``tcp_bind``,
``udp_bind`` and ``netconn_bind`` count when given ``IP_ADDR_ANY`` (or ``NULL``) and a constant
port.

A port of 0 (the system picks one) and the standard ports of infrastructure protocols (DHCP,
DNS, mDNS, LLMNR, NetBIOS, NTP, TFTP, SNMP, SSDP, CoAP, or an ``*IANA_PORT*`` macro) are left
out: they are documented protocol behaviour. Telnet, SSH, HTTP and unknown ports are reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import tree_sitter

from assay.analyze.secrets.csource import enclosing, function_name, line_text, named_calls
from assay.model import RawFinding, RuleId
from assay.parse import ParsedFile

_BIND_STEMS = re.compile(rb"bind(?=\s*\()")
_BINDS = frozenset({"bind", "tcp_bind", "udp_bind", "netconn_bind"})
_PORT = re.compile(rb"\b(?:sin6?_port|port)\s*=\s*htons\s*\(\s*(\d+|[A-Z][A-Z0-9_]*)\s*\)")
_ANY = re.compile(rb"\bINADDR_ANY\b|\bin6addr_any\b|\bIN6ADDR_ANY_INIT\b|\"0\.0\.0\.0\"|\"::\"")
_SPECIFIC = re.compile(rb"\bs_addr\s*=|\bsin6?_addr\s*=|\binet_(?:pton|aton|addr)\s*\(|getaddrinfo")
_LWIP_ANY = frozenset({"IP_ADDR_ANY", "IP_ANY_TYPE", "IP4_ADDR_ANY", "IP6_ADDR_ANY", "NULL"})
_CONSTANT = re.compile(r"\d+|[A-Z][A-Z0-9_]*")
_SERVICE_PORTS = frozenset({"53", "67", "68", "69", "123", "137", "138", "161", "162", "546", "547",
                            "1900", "5353", "5683"})  # fmt: skip
_SERVICE_NAMES = re.compile(r"DHCP|BOOTP|DNS|LLMNR|NETBIOS|SNTP|NTP|TFTP|SNMP|SSDP|COAP|IANA_PORT")

CLEARS = (
    "bind to the interface that needs the service (or make the address and port configuration), "
    "and document the service with its authentication"
)


def listeners(parsed: ParsedFile) -> Iterator[RawFinding]:
    """Bind calls to the wildcard address on a constant port."""
    root = parsed.tree.root_node
    for start, name in named_calls(parsed.source, _BIND_STEMS, _BINDS):
        node = root.descendant_for_byte_range(start, start + len(name))
        call = node.parent if node is not None else None
        if call is None or call.type != "call_expression":
            continue
        port = _lwip_port(parsed, call) if name != "bind" else _bsd_port(parsed, call)
        if port is not None and not _standard_service(port):
            yield _finding(parsed, call, name, port)


def _standard_service(port: str) -> bool:
    """Port 0 (any free port) or a standard name-service, time or management protocol port."""
    return port == "0" or port in _SERVICE_PORTS or bool(_SERVICE_NAMES.search(port))


def _bsd_port(parsed: ParsedFile, call: tree_sitter.Node) -> str | None:
    """The constant port of a wildcard ``bind()``, from the statements of its function."""
    function = enclosing(call, "function_definition")
    if function is None:
        return None
    body = parsed.source[function.start_byte : call.end_byte]
    ports = _PORT.findall(body)
    if not ports:
        return None
    if _ANY.search(body) or not _SPECIFIC.search(body):
        return str(ports[-1].decode("ascii"))
    return None


def _lwip_port(parsed: ParsedFile, call: tree_sitter.Node) -> str | None:
    """The constant port of an lwIP bind to ``IP_ADDR_ANY``."""
    args = call.child_by_field_name("arguments")
    named = [] if args is None else args.named_children
    if len(named) != 3:
        return None
    address, port = parsed.text(named[1]).strip(), parsed.text(named[2]).strip()
    if address not in _LWIP_ANY or not _CONSTANT.fullmatch(port):
        return None
    return port


def _finding(parsed: ParsedFile, call: tree_sitter.Node, name: str, port: str) -> RawFinding:
    line = call.start_point.row + 1
    message = f"{name}() listens on every interface on the fixed port {port}: {CLEARS}"
    props = {"port": port, "function": function_name(parsed, call)}
    return RawFinding(
        RuleId("secrets/fixed-port-any-listener"), line, line, message,
        line_text(parsed, call), None, props,
    )  # fmt: skip
