/*  fuzz_cert.c: libFuzzer target for CURVE certificate files: the parser in memory
    (collab_cert_parse), and the real loaders, which read from a path: the input is written
    to a memory file (memfd, named by its /proc/self/fd path) and loaded as an agent loads
    its --curve-server certificate and its own pair (collab_client_load_curve), and as the
    broker loads its server pair (collab_transport_check_cert). */
#include "certfile.h"
#include "collab_client.h"
#include "transport.h"

#include <sodium.h>
#include <zmq.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void require(bool ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz_cert", MFD_CLOEXEC);
        require(fd >= 0);
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd); /* no "PATH_secret" beside it */
    }
    require(ftruncate(fd, 0) == 0);
    require(size == 0 || pwrite(fd, data, size, 0) == (ssize_t)size);

    char err[512] = "";
    collab_client_opts_t o;
    memset(&o, 0, sizeof o);
    int rc = collab_client_load_curve(&o, path, path, err, sizeof err);
    require(rc <= 0 && o.curve == (rc == 0) && (rc == 0 || strstr(err, path)));

    char pub[COLLAB_CURVE_KEY_TXT] = "";
    err[0] = '\0';
    rc = collab_transport_check_cert(path, pub, err, sizeof err);
    require((rc == 0 && strlen(pub) == 40) || (rc == -1 && strstr(err, path)));

    collab_cert_keys_t k;
    rc = collab_cert_parse((const char *)data, size, &k);
    require(rc == 0 || rc == -1);
    require(rc == 0 || (!k.has_secret && sodium_is_zero(k.secret_key, 32)));
    require(k.has_secret || sodium_is_zero(k.secret_key, 32));
    if (rc == 0 && memchr(data, '\0', size) == NULL) { /* the loaders read the same keys */
        require(strcmp(pub, "") != 0 || !k.has_secret);
        if (k.has_secret) {
            uint8_t key[32];
            require(zmq_z85_decode(key, pub) && memcmp(key, k.public_key, 32) == 0);
        }
    }
    return 0;
}
