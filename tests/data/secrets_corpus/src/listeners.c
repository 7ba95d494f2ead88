/* Recall corpus: services bound to every interface on a fixed port. */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#define DEBUG_PORT 9999

void debug_listener(int fd)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons(2323);
    bind(fd, (struct sockaddr *)&addr, sizeof addr);  /* expect: secrets/fixed-port-any-listener */
    listen(fd, 1);
}

void zeroed_listener(int fd)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(DEBUG_PORT);
    bind(fd, (struct sockaddr *)&addr, sizeof addr);  /* expect: secrets/fixed-port-any-listener */
}

void v6_listener(int fd)
{
    struct sockaddr_in6 addr;
    memset(&addr, 0, sizeof addr);
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_any;
    addr.sin6_port = htons(31337);
    bind(fd, (struct sockaddr *)&addr, sizeof addr);  /* expect: secrets/fixed-port-any-listener */
}

void lwip_listener(struct tcp_pcb *pcb)
{
    tcp_bind(pcb, IP_ADDR_ANY, 7547);  /* expect: secrets/fixed-port-any-listener */
}

void loopback_only(int fd)
{
    /* Not reported: bound to loopback. */
    struct sockaddr_in addr;
    addr.sin_addr.s_addr = inet_addr("127.0.0.1");
    addr.sin_port = htons(8080);
    bind(fd, (struct sockaddr *)&addr, sizeof addr);
}

void dhcp_client(struct udp_pcb *pcb)
{
    /* Not reported: a standard protocol port. */
    udp_bind(pcb, IP_ADDR_ANY, LWIP_IANA_PORT_DHCP_CLIENT);
}
