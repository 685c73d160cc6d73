/* Checks a file h5bench 1.4's h5bench_write made, read back on every rank of MPI_COMM_WORLD
 * through an MPI-IO file access list (so through rustvol when HDF5_VOL_CONNECTOR names it).
 *
 *   h5bench_verify CFG WRITERS FILE
 *
 * CFG is the h5bench_write configuration the file was written with (MEM_PATTERN, FILE_PATTERN,
 * NUM_DIMS, DIM_1..3, TIMESTEPS, COLLECTIVE_DATA, COLLECTIVE_METADATA are read from it), WRITERS
 * the number of ranks that wrote it. The reads use the configuration's collective settings.
 *
 * What h5bench_write writes (h5bench_patterns/h5bench_write.c, commons/h5bench_util.c):
 *  - groups Timestep_0 .. Timestep_{TIMESTEPS-1}, each holding, for FILE_PATTERN=CONTIG, the
 *    datasets x y z px py pz id_1 id_2 (floats, id_1 an int; with MEM_PATTERN=INTERLEAVED each
 *    is a compound of the one member of its name), for FILE_PATTERN=INTERLEAVED one compound
 *    dataset "particles" {x y z px py pz id_2: float, id_1: int}; contiguous layout;
 *  - of shape (WRITERS*DIM_1) in 1-D, (WRITERS*DIM_1, DIM_2), (WRITERS*DIM_1, DIM_2, DIM_3);
 *    rank w writes rows [w*DIM_1, (w+1)*DIM_1), i.e. the elements [w*P, (w+1)*P) in row-major
 *    order, P = DIM_1*DIM_2*DIM_3;
 *  - one buffer per rank, written at every timestep: so every timestep holds the same data;
 *  - for local element l of a slab (i1 = l / (DIM_2*DIM_3) its row): with contiguous memory
 *    in 1-D, k = l; in 2-D and 3-D, k = i1; with interleaved memory, k = l. Then id_1 = k,
 *    id_2 = 2k, z = k/P * 3701, pz = 2k/P * 3701 (float arithmetic, as h5bench does it), and
 *    x, px in [0, 191], y, py in [0, 1009] (rand()/RAND_MAX times those);
 *  - FILE_PATTERN=STRIDED (1-D, contiguous memory): rank w writes its buffer of
 *    BLOCK_SIZE*BLOCK_CNT elements (k = l as above, P still DIM_1) to blocks of BLOCK_SIZE
 *    elements every STRIDE_SIZE from w*DIM_1; the rest of the dataset is never written.
 *
 * Checked on every rank, for every slab: elements never written are the fill value (zeros);
 * of the others, the deterministic fields exactly (bit for bit), the
 * random ones within their ranges, with no more than one exact zero a slab (rand() is 0 once in
 * 2^31 draws; a piece that was never written reads as zeros) and equal in every timestep.
 * Rank 0 prints the file's structure (one line per object: path, type, shape, layout) for the
 * caller to compare with native HDF5's, then "verify: ok ..." or "verify: WRONG ..."; the exit
 * status is 0 only when every check passed on every rank. */
#include <hdf5.h>
#include <hdf5_hl.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define X_DIM 191
#define Y_DIM 1009
#define Z_DIM 3701
#define MAX_REPORTS 10

typedef struct {
    float x, y, z, px, py, pz;
    int id_1;
    float id_2;
} particle;

static const char *FIELDS[8] = {"x", "y", "z", "px", "py", "pz", "id_1", "id_2"};
static const size_t OFFSETS[8] = {offsetof(particle, x),  offsetof(particle, y),  offsetof(particle, z),
                                  offsetof(particle, px), offsetof(particle, py), offsetof(particle, pz),
                                  offsetof(particle, id_1), offsetof(particle, id_2)};

static int rank, nranks;
static long wrong = 0, reports = 0;

static void bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void bad(const char *fmt, ...) {
    wrong++;
    if (reports++ < MAX_REPORTS) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "rank %d: ", rank);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
}

typedef struct {
    int mem_interleaved, file_interleaved, file_strided, ndims, timesteps, coll_data, coll_meta;
    long long d1, d2, d3, stride, block_size, block_cnt;
} config;

static int read_config(const char *path, config *c) {
    char line[512];
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    memset(c, 0, sizeof *c);
    c->ndims = 1, c->d1 = c->d2 = c->d3 = 1, c->timesteps = 1;
    while (fgets(line, sizeof line, f)) {
        char *eq = strchr(line, '='), *v;
        if (line[0] == '#' || !eq)
            continue;
        *eq = 0, v = eq + 1;
        v[strcspn(v, "\r\n#")] = 0;
        if (!strcmp(line, "MEM_PATTERN"))
            c->mem_interleaved = !strcmp(v, "INTERLEAVED");
        else if (!strcmp(line, "FILE_PATTERN"))
            c->file_interleaved = !strcmp(v, "INTERLEAVED"), c->file_strided = !strcmp(v, "STRIDED");
        else if (!strcmp(line, "STRIDE_SIZE"))
            c->stride = atoll(v);
        else if (!strcmp(line, "BLOCK_SIZE"))
            c->block_size = atoll(v);
        else if (!strcmp(line, "BLOCK_CNT"))
            c->block_cnt = atoll(v);
        else if (!strcmp(line, "NUM_DIMS"))
            c->ndims = atoi(v);
        else if (!strcmp(line, "DIM_1"))
            c->d1 = atoll(v);
        else if (!strcmp(line, "DIM_2"))
            c->d2 = atoll(v);
        else if (!strcmp(line, "DIM_3"))
            c->d3 = atoll(v);
        else if (!strcmp(line, "TIMESTEPS"))
            c->timesteps = atoi(v);
        else if (!strcmp(line, "COLLECTIVE_DATA"))
            c->coll_data = v[0] == 'Y' || v[0] == 'y';
        else if (!strcmp(line, "COLLECTIVE_METADATA"))
            c->coll_meta = v[0] == 'Y' || v[0] == 'y';
    }
    fclose(f);
    return 0;
}

/* --- the structure, printed by rank 0 ------------------------------------------------------ */

/* Every rank walks the file (with collective metadata reads, a walk of rank 0 alone would wait
 * for the others forever); rank 0 prints. */
static FILE *out;

static void print_type(hid_t type) {
    size_t len = 0;
    char *s, *p;
    if (H5LTdtype_to_text(type, NULL, H5LT_DDL, &len) < 0 || !(s = malloc(len + 1))) {
        fputs("?", out);
        return;
    }
    H5LTdtype_to_text(type, s, H5LT_DDL, &len);
    /* one line: runs of white space become one space */
    for (p = s; *p; p++) {
        if (*p == '\n' || *p == '\t' || *p == ' ') {
            if (p == s || p[-1] == ' ')
                continue;
            fputc(' ', out);
        } else
            fputc(*p, out);
    }
    free(s);
}

static herr_t print_object(hid_t loc, const char *name, const H5L_info2_t *info, void *op) {
    H5O_info2_t oi;
    (void)info, (void)op;
    if (H5Oget_info_by_name3(loc, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
        bad("H5Oget_info_by_name3(%s) failed", name);
        return 0;
    }
    if (oi.type == H5O_TYPE_GROUP) {
        fprintf(out, "/%s: group\n", name);
    } else if (oi.type == H5O_TYPE_DATASET) {
        hid_t d = H5Dopen2(loc, name, H5P_DEFAULT), t = H5Dget_type(d), s = H5Dget_space(d), p = H5Dget_create_plist(d);
        hsize_t dims[8], max[8];
        int n = H5Sget_simple_extent_dims(s, dims, max), i;
        H5D_layout_t l = H5Pget_layout(p);
        fprintf(out, "/%s: dataset ", name);
        print_type(t);
        fprintf(out, " (");
        for (i = 0; i < n; i++)
            fprintf(out, "%s%llu", i ? ", " : "", (unsigned long long)dims[i]);
        fprintf(out, ") / (");
        for (i = 0; i < n; i++)
            fprintf(out, "%s%llu", i ? ", " : "", (unsigned long long)max[i]);
        fprintf(out, ") %s", l == H5D_CONTIGUOUS ? "contiguous" : l == H5D_CHUNKED ? "chunked" : l == H5D_COMPACT ? "compact" : "?");
        if (l == H5D_CHUNKED) {
            hsize_t chunk[8];
            int cn = H5Pget_chunk(p, 8, chunk), nf = H5Pget_nfilters(p);
            for (i = 0; i < cn; i++)
                fprintf(out, "%s%llu", i ? ", " : " (", (unsigned long long)chunk[i]);
            fprintf(out, ")");
            for (i = 0; i < nf; i++) {
                unsigned flags, cd[8];
                size_t ncd = 8;
                char fname[64] = "";
                H5Z_filter_t id = H5Pget_filter2(p, (unsigned)i, &flags, &ncd, cd, sizeof fname, fname, NULL);
                fprintf(out, " filter %d", (int)id);
                for (size_t k = 0; k < ncd && k < 8; k++)
                    fprintf(out, "%s%u", k ? "," : " ", cd[k]);
            }
        }
        H5D_alloc_time_t at;
        H5D_fill_time_t ft;
        H5Pget_alloc_time(p, &at);
        H5Pget_fill_time(p, &ft);
        fprintf(out, " alloc %s fill %s", at == H5D_ALLOC_TIME_EARLY ? "early" : at == H5D_ALLOC_TIME_LATE ? "late" : at == H5D_ALLOC_TIME_INCR ? "incr" : "?",
                ft == H5D_FILL_TIME_IFSET ? "ifset" : ft == H5D_FILL_TIME_ALLOC ? "alloc" : ft == H5D_FILL_TIME_NEVER ? "never" : "?");
        H5D_space_status_t st;
        H5Dget_space_status(d, &st);
        fprintf(out, " space %s", st == H5D_SPACE_STATUS_ALLOCATED ? "allocated" : st == H5D_SPACE_STATUS_PART_ALLOCATED ? "part" : "none");
        /* filtered chunks' sizes depend on the compressor's bytes, the rest is exact */
        if (H5Pget_nfilters(p) == 0)
            fprintf(out, " storage %llu", (unsigned long long)H5Dget_storage_size(d));
        fputc('\n', out);
        H5Pclose(p), H5Sclose(s), H5Tclose(t), H5Dclose(d);
    } else
        fprintf(out, "/%s: object of type %d\n", name, (int)oi.type);
    return 0;
}

/* --- the data -------------------------------------------------------------------------------- */

/* The expected deterministic fields of local element l of a slab (see the header). */
static void expected(const config *c, long long l, int *id_1, float *id_2, float *z, float *pz) {
    long long NUM_PARTICLES = c->d1 * c->d2 * c->d3; /* h5bench's global of that name */
    if (c->mem_interleaved) {
        long i = (long)l, particle_cnt = (long)NUM_PARTICLES; /* prepare_data_interleaved */
        *id_1 = i;
        *id_2 = (float)(2 * i);
        *z = ((float)i / particle_cnt) * Z_DIM;
        *pz = ((float)2 * i / particle_cnt) * Z_DIM;
    } else {
        long k = c->ndims == 1 ? (long)l : (long)(l / (c->d2 * c->d3)); /* prepare_data_contig_{1,2,3}D */
        *id_1 = k;
        *id_2 = (float)(k * 2);
        *z = ((float)*id_1 / NUM_PARTICLES) * Z_DIM;
        *pz = (*id_2 / NUM_PARTICLES) * Z_DIM;
    }
}

static hid_t member_type(int f) {
    return f == 6 ? H5T_NATIVE_INT : H5T_NATIVE_FLOAT;
}

/* Reads one dataset whole into particles[] (field f only, or all when f < 0). With
 * `compound`, the file type is a compound and the memory type one of the same members. */
static int read_field(hid_t grp, const char *name, int f, int compound, hid_t dxpl, particle *out, long long n) {
    hid_t d = H5Dopen2(grp, name, H5P_DEFAULT), mt;
    int rc = 0;
    if (d < 0) {
        bad("H5Dopen2(%s) failed", name);
        return -1;
    }
    if (f < 0) {
        mt = H5Tcreate(H5T_COMPOUND, sizeof(particle));
        for (int i = 0; i < 8; i++)
            H5Tinsert(mt, FIELDS[i], OFFSETS[i], member_type(i));
        if (H5Dread(d, mt, H5S_ALL, H5S_ALL, dxpl, out) < 0)
            bad("H5Dread(%s) failed", name), rc = -1;
        H5Tclose(mt);
    } else {
        size_t es = 4;
        char *buf = malloc(n * es);
        if (compound) {
            mt = H5Tcreate(H5T_COMPOUND, es);
            H5Tinsert(mt, FIELDS[f], 0, member_type(f));
        } else
            mt = H5Tcopy(member_type(f));
        if (H5Dread(d, mt, H5S_ALL, H5S_ALL, dxpl, buf) < 0)
            bad("H5Dread(%s) failed", name), rc = -1;
        else
            for (long long e = 0; e < n; e++)
                memcpy((char *)&out[e] + OFFSETS[f], buf + e * es, es);
        H5Tclose(mt);
        free(buf);
    }
    if (H5Dclose(d) < 0)
        bad("H5Dclose(%s) failed", name), rc = -1;
    return rc;
}

/* Which element of its rank's buffer slab position p holds; -1 when the rank wrote none there
 * (FILE_PATTERN=STRIDED: blocks of BLOCK_SIZE every STRIDE_SIZE elements, BLOCK_CNT of them). */
static long long written_from(const config *c, long long p) {
    if (!c->file_strided)
        return p;
    long long b = p / c->stride, k = p % c->stride;
    return b < c->block_cnt && k < c->block_size ? b * c->block_size + k : -1;
}

/* The checks of one timestep's particles (see the header); `first` is timestep 0's. */
static void check(const config *c, int writers, int ts, const particle *p, const particle *first) {
    long long P = c->d1 * c->d2 * c->d3;
    static const particle fill; /* what an element no rank wrote reads as: zeros */
    for (int w = 0; w < writers; w++) {
        long zeros[4] = {0, 0, 0, 0};
        for (long long pos = 0; pos < P; pos++) {
            long long e = w * P + pos, l = written_from(c, pos);
            const particle *q = &p[e];
            int id_1;
            float id_2, z, pz;
            if (l < 0) {
                if (memcmp(q, &fill, sizeof fill))
                    bad("Timestep_%d, rank %d's slab position %lld (file element %lld), which no rank wrote: not the fill value (id_1 %d x %g)",
                        ts, w, pos, e, q->id_1, q->x);
                continue;
            }
            expected(c, l, &id_1, &id_2, &z, &pz);
            if (q->id_1 != id_1 || memcmp(&q->id_2, &id_2, 4) || memcmp(&q->z, &z, 4) || memcmp(&q->pz, &pz, 4))
                bad("Timestep_%d, rank %d's element %lld (file element %lld): id_1 %d id_2 %g z %.9g pz %.9g, expected %d %g %.9g %.9g",
                    ts, w, l, e, q->id_1, q->id_2, q->z, q->pz, id_1, id_2, z, pz);
            float r[4] = {q->x, q->px, q->y, q->py};
            for (int i = 0; i < 4; i++) {
                float top = i < 2 ? X_DIM : Y_DIM;
                if (!(r[i] >= 0 && r[i] <= top))
                    bad("Timestep_%d, rank %d's element %lld: %s = %.9g, outside [0, %g]", ts, w, l, (const char *[]){"x", "px", "y", "py"}[i], r[i], top);
                if (r[i] == 0)
                    zeros[i]++;
            }
            if (first && (memcmp(&q->x, &first[e].x, 4) || memcmp(&q->y, &first[e].y, 4) || memcmp(&q->px, &first[e].px, 4) ||
                          memcmp(&q->py, &first[e].py, 4)))
                bad("Timestep_%d, rank %d's element %lld: random fields differ from Timestep_0's (%g %g %g %g vs %g %g %g %g)", ts, w, l,
                    q->x, q->y, q->px, q->py, first[e].x, first[e].y, first[e].px, first[e].py);
        }
        for (int i = 0; i < 4; i++)
            if (zeros[i] > 1)
                bad("Timestep_%d, rank %d's slab: %ld exact zeros in %s (never written?)", ts, w, zeros[i], (const char *[]){"x", "px", "y", "py"}[i]);
    }
}

/* The shape and types each dataset must have (as native HDF5 gives for the configuration). */
static void check_shape(const config *c, int writers, hid_t grp, const char *name, int compound_members) {
    hid_t d = H5Dopen2(grp, name, H5P_DEFAULT);
    if (d < 0) {
        bad("no dataset %s", name);
        return;
    }
    hid_t s = H5Dget_space(d), t = H5Dget_type(d);
    hsize_t dims[8], want[3] = {(hsize_t)(writers * c->d1), (hsize_t)c->d2, (hsize_t)c->d3};
    int n = H5Sget_simple_extent_dims(s, dims, NULL);
    if (n != c->ndims)
        bad("%s has %d dimensions, expected %d", name, n, c->ndims);
    else
        for (int i = 0; i < n; i++)
            if (dims[i] != want[i])
                bad("%s: dimension %d is %llu, expected %llu", name, i, (unsigned long long)dims[i], (unsigned long long)want[i]);
    if (compound_members) {
        if (H5Tget_class(t) != H5T_COMPOUND || H5Tget_nmembers(t) != compound_members)
            bad("%s: not a compound of %d members", name, compound_members);
    } else if (H5Tget_class(t) != (strcmp(name, "id_1") ? H5T_FLOAT : H5T_INTEGER) || H5Tget_size(t) != 4)
        bad("%s: type class %d size %zu", name, (int)H5Tget_class(t), H5Tget_size(t));
    H5Tclose(t), H5Sclose(s), H5Dclose(d);
}

int main(int argc, char **argv) {
    config c;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    if (argc != 4 || read_config(argv[1], &c) < 0 || c.ndims < 1 || c.ndims > 3) {
        if (rank == 0)
            fprintf(stderr, "usage: h5bench_verify CFG WRITERS FILE (CFG readable, NUM_DIMS 1..3)\n");
        MPI_Finalize();
        return 2;
    }
    int writers = atoi(argv[2]);
    long long P = c.d1 * c.d2 * c.d3, n = writers * P;

    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL);
    if (c.coll_meta) {
        H5Pset_all_coll_metadata_ops(fapl, 1);
        H5Pset_coll_metadata_write(fapl, 1);
    }
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(dxpl, c.coll_data ? H5FD_MPIO_COLLECTIVE : H5FD_MPIO_INDEPENDENT);
    hid_t file = H5Fopen(argv[3], H5F_ACC_RDONLY, fapl);
    if (file < 0) {
        bad("H5Fopen(%s) failed", argv[3]);
    } else {
        out = rank == 0 ? stdout : fopen("/dev/null", "w");
        H5Lvisit2(file, H5_INDEX_NAME, H5_ITER_INC, print_object, NULL);
        fflush(out);
        if (out != stdout)
            fclose(out);
        hsize_t ngroups = 0;
        H5Gget_num_objs(file, &ngroups);
        if ((int)ngroups != c.timesteps)
            bad("%llu objects in /, expected %d timestep groups", (unsigned long long)ngroups, c.timesteps);
        particle *p = calloc(n, sizeof(particle)), *first = calloc(n, sizeof(particle));
        for (int ts = 0; ts < c.timesteps; ts++) {
            char gname[64];
            snprintf(gname, sizeof gname, "Timestep_%d", ts);
            hid_t g = H5Gopen2(file, gname, H5P_DEFAULT);
            if (g < 0) {
                bad("no group %s", gname);
                continue;
            }
            hsize_t nobj = 0;
            H5Gget_num_objs(g, &nobj);
            memset(p, 0, n * sizeof(particle));
            int rc = 0;
            if (c.file_interleaved) {
                if (nobj != 1)
                    bad("%s holds %llu objects, expected 1", gname, (unsigned long long)nobj);
                check_shape(&c, writers, g, "particles", 8);
                rc = read_field(g, "particles", -1, 1, dxpl, p, n);
            } else {
                if (nobj != 8)
                    bad("%s holds %llu objects, expected 8", gname, (unsigned long long)nobj);
                for (int f = 0; f < 8; f++) {
                    check_shape(&c, writers, g, FIELDS[f], c.mem_interleaved ? 1 : 0);
                    rc |= read_field(g, FIELDS[f], f, c.mem_interleaved, dxpl, p, n);
                }
            }
            if (rc == 0) {
                check(&c, writers, ts, p, ts ? first : NULL);
                if (ts == 0)
                    memcpy(first, p, n * sizeof(particle));
            }
            H5Gclose(g);
        }
        free(p), free(first);
        if (H5Fclose(file) < 0)
            bad("H5Fclose failed");
    }
    H5Pclose(dxpl), H5Pclose(fapl);

    long all = 0;
    MPI_Allreduce(&wrong, &all, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0) {
        if (all == 0)
            printf("verify: ok (%d timesteps of %lld particles from %d writers, on each of %d ranks)\n", c.timesteps, n, writers, nranks);
        else
            printf("verify: WRONG (%ld failed checks over %d ranks)\n", all, nranks);
    }
    MPI_Finalize();
    return all == 0 ? 0 : 1;
}
