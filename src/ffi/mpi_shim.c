/* The few MPI calls rustvol makes on the communicator a parallel HDF5 program gives it, in C
 * because MPI_Comm's type is the MPI implementation's (a pointer in OpenMPI, an int in MPICH):
 * compiled with the application's mpicc, Rust only ever holds a pointer to an rv_comm. */
#include <stdlib.h>
#include <string.h>
#include <mpi.h>
#include <hdf5.h>

#ifndef H5_HAVE_PARALLEL
#error "rustvol's mpi feature needs a parallel HDF5: point HDF5_DIR at one (scripts/setup-mpi.sh)"
#endif

typedef struct rv_comm {
    MPI_Comm comm;
    int rank;
    int size;
} rv_comm;

/* The communicator of a file access list (a duplicate, owned by the result), or NULL in *out
 * when the list carries none or MPI is not running. Returns negative when HDF5 or MPI fails. */
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
    if (MPI_Comm_rank(comm, &c->rank) != MPI_SUCCESS || MPI_Comm_size(comm, &c->size) != MPI_SUCCESS) {
        MPI_Comm_free(&comm);
        free(c);
        return -1;
    }
    *out = c;
    return 0;
}

int rv_mpi_rank(const rv_comm *c) { return c->rank; }
int rv_mpi_size(const rv_comm *c) { return c->size; }

int rv_mpi_barrier(rv_comm *c) { return MPI_Barrier(c->comm) == MPI_SUCCESS ? 0 : -1; }

/* Broadcasts len bytes from root, in pieces MPI's int counts can name. */
int rv_mpi_bcast(rv_comm *c, void *buf, size_t len, int root) {
    const size_t step = (size_t)1 << 30;
    for (size_t off = 0; off < len; off += step) {
        size_t n = len - off < step ? len - off : step;
        if (MPI_Bcast((char *)buf + off, (int)n, MPI_BYTE, root, c->comm) != MPI_SUCCESS)
            return -1;
    }
    return 0;
}

/* The largest of every rank's value, on every rank. */
int rv_mpi_allreduce_max(rv_comm *c, long long *v) {
    long long in = *v;
    return MPI_Allreduce(&in, v, 1, MPI_LONG_LONG, MPI_MAX, c->comm) == MPI_SUCCESS ? 0 : -1;
}

/* Every rank's len bytes, concatenated in rank order on root (out: size * len bytes there). */
int rv_mpi_gather(rv_comm *c, const void *in, size_t len, void *out, int root) {
    if (len > (size_t)1 << 30)
        return -1;
    return MPI_Gather(in, (int)len, MPI_BYTE, out, (int)len, MPI_BYTE, root, c->comm) == MPI_SUCCESS ? 0 : -1;
}

/* Variable-length gather: counts/displs in bytes, meaningful on root only. */
int rv_mpi_gatherv(rv_comm *c, const void *in, int len, void *out, const int *counts, const int *displs, int root) {
    return MPI_Gatherv(in, len, MPI_BYTE, out, counts, displs, MPI_BYTE, root, c->comm) == MPI_SUCCESS ? 0 : -1;
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
