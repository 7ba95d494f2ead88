#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "securec.h"

#define MAX_URI 256

struct request {
    char method[8];
    char uri[MAX_URI];
    char user[32];
    int content_length;
};

/* Parse "GET /path HTTP/1.1" into the request. */
static int parse_request_line(struct request *req, const char *line)
{
    char method[16];
    char uri[1024];
    if (sscanf(line, "%s %s", method, uri) != 2) {
        return -1;
    }
    strcpy(req->method, method);          /* unbounded */
    strcpy_s(req->uri, sizeof(req->uri), uri);  /* "safe", but see securec.h */
    return 0;
}

static void log_request(const struct request *req)
{
    char msg[128];
    sprintf(msg, "%s %s by %s", req->method, req->uri, req->user);
    /* strcpy(msg, "commented out"); is not a call */
    puts("strcpy(msg, req->uri) in a string is not a call either");
    puts(msg);
}

int handle(struct request *req, const char *hdr, const char *body, int body_len)
{
    char buf[512];
    int status = 200;
    if (req == NULL || hdr == NULL) {
        return 400;
    }
    if (strncmp(hdr, "Authorization:", 14) == 0) {
        snprintf(req->user, sizeof(req->user), "%s", hdr + 14);
    } else if (strncmp(hdr, "Content-Length:", 15) == 0) {
        req->content_length = atoi(hdr + 15);
    } else if (strncmp(hdr, "Host:", 5) == 0) {
        status = 200;
    }
    for (int i = 0; i < body_len; i++) {
        if (body[i] == '\r' || body[i] == '\n') {
            continue;
        }
        if (i > 0 && body[i - 1] == '%') {
            switch (body[i]) {
            case '2':
                status = 201;
                break;
            case '3':
                status = 301;
                break;
            default:
                status = body_len > 100 ? 413 : 200;
                break;
            }
        }
    }
    memcpy(buf, body, body_len);          /* no bound against sizeof(buf) */
    memcpy_s(buf, sizeof(buf), body, body_len);
    while (status == 200 && req->content_length > 0 && body_len > 0) {
        if (req->content_length > body_len) {
            status = 206;
        }
        break;
    }
    log_request(req);
    return status;
}

int main(int argc, char **argv)
{
    struct request req;
    memset(&req, 0, sizeof(req));
    if (argc > 1 && parse_request_line(&req, argv[1]) == 0) {
        return handle(&req, argc > 2 ? argv[2] : "", argc > 3 ? argv[3] : "", 0) == 200 ? 0 : 1;
    }
    return 2;
}
