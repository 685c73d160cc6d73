/* The few MPI calls rustvol makes on the communicator a parallel HDF5 program gives it, in C
 * because MPI_Comm's type is the MPI implementation's (a pointer in OpenMPI, an int in MPICH):
 * compiled with the application's mpicc, Rust only ever holds a pointer to an rv_comm. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <mpi.h>
#include <hdf5.h>

#ifndef H5_HAVE_PARALLEL
#error "rustvol's mpi feature needs a parallel HDF5: point HDF5_DIR at one (scripts/setup-mpi.sh)"
#endif

typedef struct rv_comm {
    MPI_Comm comm;
    int rank;
    int size;
    /* A collective of rustvol's timed out: its request is still pending, so the communicator
     * is out of step with the other ranks and every later collective is refused. */
    int poisoned;
} rv_comm;

/* The communicator of a file access list (a duplicate, owned by the result), or NULL in *out
 * when the list carries none or MPI is not running. Returns negative when HDF5 or MPI fails. */
/* 1 when the file access list names the MPI-IO driver (H5Pset_fapl_mpio), else 0. */
int rv_mpi_fapl_is_mpio(hid_t fapl) {
    hid_t driver = H5Pget_driver(fapl);
    return driver >= 0 && driver == H5FD_MPIO;
}

int rv_mpi_comm_of_fapl(hid_t fapl, rv_comm **out) {
    int up = 0, down = 0;
    MPI_Comm comm = MPI_COMM_NULL;
    MPI_Info info = MPI_INFO_NULL;
    *out = NULL;
    MPI_Initialized(&up);
    MPI_Finalized(&down);
    if (!up || down)
        return 0;
    if (H5Pget_mpi_params(fapl, &comm, &info) < 0)
        return -1;
    if (info != MPI_INFO_NULL)
        MPI_Info_free(&info);
    if (comm == MPI_COMM_NULL)
        return 0;
    rv_comm *c = malloc(sizeof *c);
    if (c == NULL) {
        MPI_Comm_free(&comm);
        return -1;
    }
    c->comm = comm;
    c->poisoned = 0;
    if (MPI_Comm_rank(comm, &c->rank) != MPI_SUCCESS || MPI_Comm_size(comm, &c->size) != MPI_SUCCESS) {
        MPI_Comm_free(&comm);
        free(c);
        return -1;
    }
    *out = c;
    return 0;
}

/* 1 when a data transfer list asks for collective transfers (H5Pset_dxpl_mpio), 0 for
 * independent ones, -1 when HDF5 cannot say. */
int rv_mpi_dxpl_collective(hid_t dxpl) {
    H5FD_mpio_xfer_t mode = H5FD_MPIO_INDEPENDENT;
    if (H5Pget_dxpl_mpio(dxpl, &mode) < 0)
        return -1;
    return mode == H5FD_MPIO_COLLECTIVE;
}

int rv_mpi_rank(const rv_comm *c) { return c->rank; }
int rv_mpi_size(const rv_comm *c) { return c->size; }

/* Waits for a nonblocking collective for at most timeout_ms: 0 done, 1 timed out, -1 MPI
 * failed. rustvol's own collectives never block without bound, so ranks that disagree about
 * how many collective calls they make get an error instead of hanging the program. A request
 * that timed out is left pending on the buffers it was given, so every collective below runs
 * on buffers of its own (`stage`), which a timeout leaks rather than frees, and poisons the
 * communicator. */
static int wait_for(rv_comm *c, MPI_Request *req, long timeout_ms) {
    struct timespec t0, now, nap = {0, 200000};
    int done = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (MPI_Test(req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return -1;
        if (done)
            return 0;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - t0.tv_sec) * 1000L + (now.tv_nsec - t0.tv_nsec) / 1000000L >= timeout_ms) {
            c->poisoned = 1;
            return 1;
        }
        nanosleep(&nap, NULL);
    }
}

/* A heap copy of n bytes of src (zeroes when src is NULL); NULL when out of memory. */
static void *stage(const void *src, size_t n) {
    void *p = calloc(n ? n : 1, 1);
    if (p != NULL && src != NULL && n)
        memcpy(p, src, n);
    return p;
}

/* After a collective on staged buffers: on success the result is copied out and the stage
 * freed; on a timeout the stage stays with the pending request. */
static int unstage(int rc, void *stage_buf, void *out, size_t n) {
    if (rc == 0 && out != NULL && n)
        memcpy(out, stage_buf, n);
    if (rc != 1)
        free(stage_buf);
    return rc;
}

int rv_mpi_barrier(rv_comm *c, long timeout_ms) {
    MPI_Request req;
    if (c->poisoned)
        return 1;
    if (MPI_Ibarrier(c->comm, &req) != MPI_SUCCESS)
        return -1;
    return wait_for(c, &req, timeout_ms);
}

/* Broadcasts len bytes from root (len < 2^31: the callers' messages are small). */
int rv_mpi_bcast(rv_comm *c, void *buf, size_t len, int root, long timeout_ms) {
    MPI_Request req;
    if (c->poisoned)
        return 1;
    if (len > (size_t)1 << 30)
        return -1;
    void *b = stage(buf, len);
    if (b == NULL)
        return -1;
    if (MPI_Ibcast(b, (int)len, MPI_BYTE, root, c->comm, &req) != MPI_SUCCESS)
        return unstage(-1, b, NULL, 0);
    return unstage(wait_for(c, &req, timeout_ms), b, buf, len);
}

/* The largest of every rank's value, on every rank. */
int rv_mpi_allreduce_max(rv_comm *c, long long *v, long timeout_ms) {
    MPI_Request req;
    if (c->poisoned)
        return 1;
    long long *io = stage(NULL, 2 * sizeof *io);
    if (io == NULL)
        return -1;
    io[0] = *v;
    if (MPI_Iallreduce(&io[0], &io[1], 1, MPI_LONG_LONG, MPI_MAX, c->comm, &req) != MPI_SUCCESS)
        return unstage(-1, io, NULL, 0);
    int rc = wait_for(c, &req, timeout_ms);
    if (rc == 0)
        *v = io[1];
    return unstage(rc, io, NULL, 0);
}

/* Every rank's n, on every rank (out: size values). */
int rv_mpi_allgather_u64(rv_comm *c, unsigned long long n, unsigned long long *out, long timeout_ms) {
    MPI_Request req;
    if (c->poisoned)
        return 1;
    size_t bytes = (size_t)(c->size + 1) * sizeof n;
    unsigned long long *b = stage(NULL, bytes);
    if (b == NULL)
        return -1;
    b[c->size] = n;
    if (MPI_Iallgather(&b[c->size], 1, MPI_UNSIGNED_LONG_LONG, b, 1, MPI_UNSIGNED_LONG_LONG, c->comm, &req) != MPI_SUCCESS)
        return unstage(-1, b, NULL, 0);
    return unstage(wait_for(c, &req, timeout_ms), b, out, (size_t)c->size * sizeof n);
}

/* Variable-length gather of bytes to root: counts and displs (in bytes, meaningful on root)
 * sum to less than 2^31, which the caller arranges by sending in rounds. */
int rv_mpi_gatherv(rv_comm *c, const void *in, int len, void *out, const int *counts, const int *displs, int root, long timeout_ms) {
    MPI_Request req;
    if (c->poisoned)
        return 1;
    int lead = c->rank == root;
    size_t total = 0;
    if (lead)
        for (int r = 0; r < c->size; r++)
            total += (size_t)counts[r];
    size_t meta = lead ? 2 * (size_t)c->size * sizeof(int) : 0;
    /* One block: the counts and displacements, the bytes sent, the bytes received. */
    char *b = stage(NULL, meta + (size_t)len + total);
    if (b == NULL)
        return -1;
    int *cs = (int *)b, *ds = cs + c->size;
    if (lead) {
        memcpy(cs, counts, (size_t)c->size * sizeof(int));
        memcpy(ds, displs, (size_t)c->size * sizeof(int));
    }
    if (len > 0)
        memcpy(b + meta, in, (size_t)len);
    if (MPI_Igatherv(b + meta, len, MPI_BYTE, b + meta + len, lead ? cs : NULL, lead ? ds : NULL, MPI_BYTE, root, c->comm, &req) != MPI_SUCCESS)
        return unstage(-1, b, NULL, 0);
    int rc = wait_for(c, &req, timeout_ms);
    if (rc == 0 && lead && total)
        memcpy(out, b + meta + len, total);
    return unstage(rc, b, NULL, 0);
}

/* Frees the duplicate; after MPI_Finalize there is nothing left to free but the struct. */
void rv_mpi_free(rv_comm *c) {
    int down = 0;
    if (c == NULL)
        return;
    MPI_Finalized(&down);
    if (!down)
        MPI_Comm_free(&c->comm);
    free(c);
}
