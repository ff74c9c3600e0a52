/*  webstatic.h: collab-web's static files (the pages) from web_static_dir, each with its
    Content-Type; only regular files under that folder: no "..", no hidden file, no
    symbolic link out of it. */
#ifndef WEB_STATIC_H
#define WEB_STATIC_H

#include "http.h"

/*  Answers a GET or HEAD of req->path: the file, 404, or 400 for a path refused. */
void web_static_serve(webreq_t *req);

#endif
