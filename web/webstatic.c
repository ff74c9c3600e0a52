/*  webstatic.c: static files (webstatic.h). */
#include "webstatic.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*  Whether the file open as fd, named full, lies under dir (both resolved). */
static bool inside(const char *dir, const char *full)
{
    char rdir[PATH_MAX], rfile[PATH_MAX];
    if (!realpath(dir, rdir) || !realpath(full, rfile))
        return false;
    size_t n = strlen(rdir);
    return strncmp(rdir, rfile, n) == 0 && rfile[n] == '/';
}

void web_static_serve(webreq_t *req)
{
    const web_settings_t *set = gw_settings(req->gw);
    char rel[320], full[COLLAB_PATH_MAX + 320];
    if (!web_static_path_ok(req->path)) {
        web_answer_error(req, 400, "bad_path", "that path is not served");
        return;
    }
    size_t n = strlen(req->path);
    snprintf(rel, sizeof rel, "%s%s", req->path, req->path[n - 1] == '/' ? "index.html" : "");
    snprintf(full, sizeof full, "%s%s", set->static_dir, rel);
    int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !inside(set->static_dir, full)) {
        if (fd >= 0)
            close(fd);
        web_answer_error(req, 404, "not_found", "no such file");
        return;
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!resp) {
        close(fd);
        web_answer_error(req, 503, "nomem", "out of memory");
        return;
    }
    MHD_add_response_header(resp, "Content-Type", web_content_type(rel));
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    web_answer_response(req, 200, resp);
}
