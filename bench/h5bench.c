/*
 * h5bench.c: h5bench-style I/O and metadata patterns through the plain HDF5 API.
 *
 * Uses only the public HDF5 API and never names a connector: run it as it is for native HDF5
 * (sec2 driver on the file given, or --core for the core driver with a backing store), or with
 * HDF5_VOL_CONNECTOR / HDF5_PLUGIN_PATH set to run it through a VOL connector such as rustvol.
 *
 * Suites (--suite, comma separated; default "io,small,meta"):
 *   io     one file, every bandwidth pattern written, the file closed and reopened, every
 *          pattern read back:
 *            contig1d/2d/3d    contiguous datasets written and read in slabs of --io-mb
 *            strided1d/2d/3d   the same shapes, each slab in two interleaved passes: blocks of
 *                              --stride-block elements along the fastest dimension, every other
 *                              block (h5bench's "interleaved" file pattern, contiguous memory)
 *            chunk-whole       a chunked 2-D dataset (chunks of --chunk-mb), each call covering
 *                              --chunk-io-mb of whole chunks (default: the whole dataset)
 *            chunk-each        the same shape, one call per chunk
 *            chunk-partial     quarter-chunk blocks (half of each chunk dimension), one call each
 *                              (writes overwrite chunk-each's dataset, reads read chunk-whole's)
 *   small  --small datasets of --small-bytes each (contiguous): create+write, close, reopen,
 *          open+read
 *   meta   --groups groups in the root group, each with --attrs small attributes: create
 *          (group + attributes written), close, reopen, open (group + attributes read),
 *          iterate (H5Literate2 on the root, H5Aiterate_by_name for each group)
 *   scale  objects in one group grown to each size of --scale (e.g. 1000,10000,100000,1000000);
 *          at each size: create cost (average over the creates that reached it), then with a
 *          fixed sample of --scale-sample random names: H5Gopen2+H5Gclose, H5Lexists,
 *          H5Oget_info_by_name3; an H5Literate2 over the whole group (per link); and the
 *          H5Fflush of 100 new objects (mean of ten rounds)
 *   calib  no HDF5 call: memcpy of --contig-mb in 1 MiB blocks into newly allocated memory, into
 *          the same memory again, and out of it into a reused buffer (this machine's ceilings for
 *          a store that keeps data in process memory)
 *   chunkscale  one chunked 1-D dataset (chunks of --cs-chunk doubles) grown, by large writes, to
 *          each number of chunks of --chunkscale (e.g. 1000,10000,100000); at each size, with
 *          --cs-sample random single-chunk calls: H5Dwrite of one chunk, H5Dread of one chunk,
 *          then the H5Fflush of those writes
 *
 * Output: one JSON object per line on standard output, e.g.
 *   {"suite":"io","test":"contig1d","op":"write","bytes":268435456,"ops":8,"seconds":0.21}
 * Progress goes to standard error. Only the HDF5 calls of an operation are timed (buffers are
 * filled and checked outside the timed region); file close and open are reported on their own.
 * Exit status is non-zero if an HDF5 call fails or data read back is wrong.
 *
 * --stats-points: before and after each timed phase, open the benchmark file once more and close
 * that handle again, printing "h5bench: stats-point <label>" to standard error first; a connector
 * that reports its request counts at each file close (rustvol with RUSTVOL_STATS=1) then prints
 * them right after, so a driver script can count the requests of each phase.
 */
#include <hdf5.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MiB (1024.0 * 1024.0)

static struct {
    const char *file;
    int core;
    double io_mb, contig_mb, chunk_mb, chunked_mb, chunk_io_mb;
    long stride_block;
    long small_n, small_bytes;
    long groups, attrs;
    char scale[256];
    long scale_sample;
    char chunkscale[256];
    long cs_chunk, cs_sample;
    char suite[256];
    char tests[256];
    int stats_points;
    int verify;
    const char *label;
} opt = {
    .file = "h5bench.h5",
    .core = 0,
    .io_mb = 32,
    .contig_mb = 256,
    .chunk_mb = 4,
    .chunked_mb = 256,
    .chunk_io_mb = 0, /* 0: whole dataset */
    .stride_block = 64,
    .small_n = 10000,
    .small_bytes = 1024,
    .groups = 10000,
    .attrs = 4,
    .scale = "1000,10000,100000,1000000",
    .scale_sample = 10000,
    .chunkscale = "1000,10000,100000",
    .cs_chunk = 128,
    .cs_sample = 200,
    .suite = "io,small,meta",
    .tests = "",
    .stats_points = 0,
    .verify = 1,
    .label = "",
};

static int failed = 0;
static char cur_file[4096];

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "h5bench: error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if ((x) < 0)                                                                               \
            die("%s failed (%s:%d)", #x, __FILE__, __LINE__);                                      \
    } while (0)

static void emit(const char *suite, const char *test, const char *op, double bytes, double ops, double secs,
                 const char *extra_fmt, ...)
{
    printf("{\"suite\":\"%s\",\"test\":\"%s\",\"op\":\"%s\",\"bytes\":%.0f,\"ops\":%.0f,\"seconds\":%.6f", suite, test, op,
           bytes, ops, secs);
    if (opt.label[0])
        printf(",\"label\":\"%s\"", opt.label);
    if (extra_fmt) {
        va_list ap;
        va_start(ap, extra_fmt);
        printf(",");
        vprintf(extra_fmt, ap);
        va_end(ap);
    }
    printf("}\n");
    fflush(stdout);
    if (bytes > 0)
        fprintf(stderr, "  %-14s %-6s %10.1f MB/s  (%.0f MiB in %.3f s, %.0f calls)\n", test, op,
                secs > 0 ? bytes / 1e6 / secs : 0, bytes / MiB, secs, ops);
    else
        fprintf(stderr, "  %-14s %-8s %10.0f ops/s (%.0f in %.3f s)\n", test, op, secs > 0 ? ops / secs : 0, ops, secs);
}

static hid_t fapl_new(void)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    CHECK(fapl);
    if (opt.core)
        CHECK(H5Pset_fapl_core(fapl, 64 << 20, 1));
    return fapl;
}

static hid_t file_create(const char *name)
{
    hid_t fapl = fapl_new();
    hid_t f = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    CHECK(f);
    H5Pclose(fapl);
    snprintf(cur_file, sizeof cur_file, "%s", name);
    return f;
}

static hid_t file_open(const char *name, unsigned flags)
{
    hid_t fapl = fapl_new();
    hid_t f = H5Fopen(name, flags, fapl);
    CHECK(f);
    H5Pclose(fapl);
    snprintf(cur_file, sizeof cur_file, "%s", name);
    return f;
}

/* See --stats-points above. */
static void stats_point(const char *fmt, ...)
{
    if (!opt.stats_points)
        return;
    char label[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(label, sizeof label, fmt, ap);
    va_end(ap);
    hid_t fapl = fapl_new();
    hid_t f = H5Fopen(cur_file, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    fflush(stdout);
    fprintf(stderr, "h5bench: stats-point %s\n", label);
    fflush(stderr);
    if (f >= 0)
        H5Fclose(f);
}

/* ------------------------------------------------------------------------------------------ */
/* Bandwidth patterns.                                                                         */

typedef struct {
    const char *name;
    int rank;
    hsize_t dims[3];
    hsize_t chunk[3];  /* chunked layout when chunk[0] > 0 */
    int strided;       /* two interleaved passes per slab */
    int mode;          /* 0: slabs of io_mb along dim 0; 1: one call per chunk; 2: quarter chunks;
                          3: slabs of chunk_io_mb, whole chunks */
    const char *dset;  /* dataset name */
} pattern_t;

/* Value stored at a linear element index: recognisable, never the fill value. */
static inline double val(uint64_t i) { return (double)i + 0.5; }

typedef struct {
    hsize_t start[3], count[3], stride[3], block[3];
} slab_t;

/* Number of elements of one row (all dims but the first). */
static hsize_t row_elems(const pattern_t *p)
{
    hsize_t n = 1;
    for (int d = 1; d < p->rank; d++)
        n *= p->dims[d];
    return n;
}

/* Linear index of element at coordinates. */
static uint64_t lin(const pattern_t *p, const hsize_t *c)
{
    uint64_t i = 0;
    for (int d = 0; d < p->rank; d++)
        i = i * p->dims[d] + c[d];
    return i;
}

/* The selection calls of pattern p: fills *s for call number k; returns 0 when done.
 * For strided patterns, each slab gives two calls (pass 0 and 1). */
static int call_slab(const pattern_t *p, long k, slab_t *s)
{
    int r = p->rank;
    for (int d = 0; d < r; d++) {
        s->start[d] = 0;
        s->count[d] = 1;
        s->stride[d] = 1;
        s->block[d] = p->dims[d];
    }
    if (p->mode == 0 || p->mode == 3) {
        double mb = p->mode == 0 ? opt.io_mb : opt.chunk_io_mb;
        hsize_t rows;
        if (p->mode == 3 && mb <= 0)
            rows = p->dims[0];
        else {
            rows = (hsize_t)(mb * MiB / (row_elems(p) * sizeof(double)));
            if (p->mode == 3) /* whole chunk rows */
                rows = rows / p->chunk[0] * p->chunk[0];
            if (rows < 1)
                rows = p->mode == 3 ? p->chunk[0] : 1;
        }
        long slab = p->strided ? k / 2 : k;
        hsize_t first = (hsize_t)slab * rows;
        if (first >= p->dims[0])
            return 0;
        s->start[0] = first;
        s->block[0] = rows < p->dims[0] - first ? rows : p->dims[0] - first;
        if (p->strided) {
            hsize_t n = p->dims[r - 1];
            hsize_t b = (hsize_t)opt.stride_block;
            if (r > 1 && b > n / 2)
                b = n / 2 ? n / 2 : 1;
            if (r == 1) {
                /* 1-D: the slab itself is interleaved */
                hsize_t len = s->block[0];
                s->start[0] = first + (k % 2) * b;
                s->block[0] = b;
                s->stride[0] = 2 * b;
                s->count[0] = len >= (k % 2) * b + b ? (len - (k % 2) * b - b) / (2 * b) + 1 : 0;
            } else {
                s->start[r - 1] = (k % 2) * b;
                s->block[r - 1] = b;
                s->stride[r - 1] = 2 * b;
                s->count[r - 1] = n >= (k % 2) * b + b ? (n - (k % 2) * b - b) / (2 * b) + 1 : 0;
            }
        }
        return 1;
    }
    /* chunk-grid modes */
    hsize_t nch[3], total = 1;
    for (int d = 0; d < r; d++) {
        nch[d] = (p->dims[d] + p->chunk[d] - 1) / p->chunk[d];
        total *= nch[d];
    }
    long per = p->mode == 2 ? (1L << r) : 1;
    if ((hsize_t)(k / per) >= total)
        return 0;
    hsize_t c = (hsize_t)(k / per);
    long q = k % per;
    for (int d = r - 1; d >= 0; d--) {
        hsize_t pos = c % nch[d];
        c /= nch[d];
        s->start[d] = pos * p->chunk[d];
        s->block[d] = p->chunk[d];
        if (s->start[d] + s->block[d] > p->dims[d])
            s->block[d] = p->dims[d] - s->start[d];
        if (p->mode == 2) {
            hsize_t half = s->block[d] / 2;
            if ((q >> (r - 1 - d)) & 1) {
                s->start[d] += half;
                s->block[d] -= half;
            } else
                s->block[d] = half;
        }
    }
    return 1;
}

static hsize_t slab_npoints(const pattern_t *p, const slab_t *s)
{
    hsize_t n = 1;
    for (int d = 0; d < p->rank; d++)
        n *= s->count[d] * s->block[d];
    return n;
}

/* The memory space of a call: a packed buffer of the selected elements, with the selection's
 * shape (as h5bench does), so the library sees matching shapes in memory and in the file. */
static hid_t mem_space(const pattern_t *p, const slab_t *s)
{
    hsize_t ext[3];
    for (int d = 0; d < p->rank; d++)
        ext[d] = s->count[d] * s->block[d];
    hid_t m = H5Screate_simple(p->rank, ext, NULL);
    CHECK(m);
    return m;
}

/* Fills buf with the values of the selected elements in selection order, or checks them. */
static long fill_or_check(const pattern_t *p, const slab_t *s, double *buf, int check)
{
    int r = p->rank;
    hsize_t c[3], idx[3] = {0, 0, 0}; /* idx: position within count*block per dim */
    hsize_t ext[3];
    for (int d = 0; d < r; d++)
        ext[d] = s->count[d] * s->block[d];
    hsize_t n = slab_npoints(p, s), stepc = check ? 257 : 1;
    long bad = 0;
    /* Walk selection order (row-major over the selected coordinates). */
    for (hsize_t i = 0; i < n; i++) {
        if (!check || i % stepc == 0 || i == n - 1) {
            hsize_t rem = i;
            for (int d = r - 1; d >= 0; d--) {
                idx[d] = rem % ext[d];
                rem /= ext[d];
            }
            for (int d = 0; d < r; d++)
                c[d] = s->start[d] + (idx[d] / s->block[d]) * s->stride[d] + idx[d] % s->block[d];
            double v = val(lin(p, c));
            if (check) {
                if (buf[i] != v) {
                    if (bad < 3)
                        fprintf(stderr, "h5bench: %s: element %" PRIuHSIZE " of a read is %g, expected %g\n", p->name,
                                (hsize_t)i, buf[i], v);
                    bad++;
                }
            } else
                buf[i] = v;
        }
    }
    return bad;
}

/* Fast fill for the common case: one contiguous slab (values follow the linear index). */
static void fill_fast(const pattern_t *p, const slab_t *s, double *buf)
{
    int contiguous = 1;
    for (int d = 1; d < p->rank; d++)
        if (s->start[d] != 0 || s->block[d] != p->dims[d] || s->count[d] != 1)
            contiguous = 0;
    if (contiguous && s->count[0] == 1) {
        uint64_t base = (uint64_t)s->start[0] * row_elems(p);
        hsize_t n = slab_npoints(p, s);
        for (hsize_t i = 0; i < n; i++)
            buf[i] = val(base + i);
    } else
        fill_or_check(p, s, buf, 0);
}

static void run_pattern(hid_t f, const pattern_t *p, int writing)
{
    hid_t d;
    if (writing) {
        hid_t space = H5Screate_simple(p->rank, p->dims, NULL);
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        if (p->chunk[0] > 0)
            CHECK(H5Pset_chunk(dcpl, p->rank, p->chunk));
        CHECK(d = H5Dcreate2(f, p->dset, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
        H5Pclose(dcpl);
        H5Sclose(space);
    } else
        CHECK(d = H5Dopen2(f, p->dset, H5P_DEFAULT));
    hid_t fspace = H5Dget_space(d);
    size_t cap = 0;
    double *buf = NULL;
    double secs = 0;
    double bytes = 0;
    long calls = 0, bad = 0;
    slab_t s;
    for (long k = 0; call_slab(p, k, &s); k++) {
        hsize_t n = slab_npoints(p, &s);
        if (n == 0)
            continue;
        if (n > cap) {
            free(buf);
            cap = n;
            buf = malloc(cap * sizeof(double));
            if (!buf)
                die("out of memory");
        }
        CHECK(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, s.start, s.stride, s.count, s.block));
        hid_t mspace = mem_space(p, &s);
        if (writing) {
            fill_fast(p, &s, buf);
            double t0 = now();
            CHECK(H5Dwrite(d, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT, buf));
            secs += now() - t0;
        } else {
            memset(buf, 0, n * sizeof(double));
            double t0 = now();
            CHECK(H5Dread(d, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT, buf));
            secs += now() - t0;
            if (opt.verify)
                bad += fill_or_check(p, &s, buf, 1);
        }
        H5Sclose(mspace);
        bytes += n * sizeof(double);
        calls++;
    }
    free(buf);
    H5Sclose(fspace);
    CHECK(H5Dclose(d));
    if (bad) {
        fprintf(stderr, "h5bench: %s: %ld wrong elements read back\n", p->name, bad);
        failed = 1;
    }
    emit("io", p->name, writing ? "write" : "read", bytes, calls, secs, NULL);
}

/* --tests: whether pattern `name` runs (all when the list is empty). chunk-partial reads
 * chunk-whole's dataset and overwrites chunk-each's, so those run along when it is chosen. */
static int selected(const char *name)
{
    if (!opt.tests[0])
        return 1;
    char list[300];
    snprintf(list, sizeof list, ",%s,", opt.tests);
    char want[64];
    snprintf(want, sizeof want, ",%s,", name);
    if (strstr(list, want))
        return 1;
    return strstr(list, ",chunk-partial,") && (!strcmp(name, "chunk-whole") || !strcmp(name, "chunk-each"));
}

static void suite_io(void)
{
    /* Shapes: 1-D; 2-D with rows of 1024 doubles; 3-D with planes of 64x64 doubles. */
    hsize_t n = (hsize_t)(opt.contig_mb * MiB / sizeof(double));
    hsize_t c2 = 1024, c3 = 64;
    hsize_t r2 = n / c2 ? n / c2 : 1, r3 = n / (c3 * c3) ? n / (c3 * c3) : 1;
    /* Chunked: chunks of chunk_mb, 512 x (chunk_mb*MiB/8/512) doubles, dataset two chunks wide. */
    hsize_t cc = (hsize_t)(opt.chunk_mb * MiB / sizeof(double) / 512);
    if (cc < 2)
        cc = 2;
    hsize_t ccols = 2 * cc;
    hsize_t crows = (hsize_t)(opt.chunked_mb * MiB / sizeof(double)) / ccols;
    crows = (crows + 511) / 512 * 512;
    if (crows < 512)
        crows = 512;
    pattern_t pats[] = {
        {"contig1d", 1, {n}, {0}, 0, 0, "contig1d"},
        {"contig2d", 2, {r2, c2}, {0}, 0, 0, "contig2d"},
        {"contig3d", 3, {r3, c3, c3}, {0}, 0, 0, "contig3d"},
        {"strided1d", 1, {n}, {0}, 1, 0, "strided1d"},
        {"strided2d", 2, {r2, c2}, {0}, 1, 0, "strided2d"},
        {"strided3d", 3, {r3, c3, c3}, {0}, 1, 0, "strided3d"},
        {"chunk-whole", 2, {crows, ccols}, {512, cc}, 0, 3, "chunkA"},
        {"chunk-each", 2, {crows, ccols}, {512, cc}, 0, 1, "chunkB"},
        {"chunk-partial", 2, {crows, ccols}, {512, cc}, 0, 2, "chunkB"},
    };
    int np = sizeof pats / sizeof pats[0];
    fprintf(stderr, "h5bench: io: contiguous %.0f MiB per dataset, slabs of %.0f MiB; chunked %" PRIuHSIZE "x%" PRIuHSIZE
                    " doubles in chunks of 512x%" PRIuHSIZE " (%.1f MiB)\n",
            opt.contig_mb, opt.io_mb, crows, ccols, cc, 512.0 * cc * 8 / MiB);

    double t0 = now();
    hid_t f = file_create(opt.file);
    emit("io", "file", "create", 0, 1, now() - t0, NULL);
    stats_point("io-write-start");
    for (int i = 0; i < np; i++) {
        if (!selected(pats[i].name))
            continue;
        /* partial writes overwrite chunk-each's dataset: open it, do not create it again */
        if (pats[i].mode == 2) {
            pattern_t p = pats[i];
            hid_t d;
            CHECK(d = H5Dopen2(f, p.dset, H5P_DEFAULT));
            hid_t fspace = H5Dget_space(d);
            slab_t s;
            double secs = 0, bytes = 0;
            long calls = 0;
            double *buf = NULL;
            size_t cap = 0;
            for (long k = 0; call_slab(&p, k, &s); k++) {
                hsize_t m = slab_npoints(&p, &s);
                if (m > cap) {
                    free(buf);
                    cap = m;
                    buf = malloc(cap * sizeof(double));
                }
                fill_or_check(&p, &s, buf, 0);
                CHECK(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, s.start, s.stride, s.count, s.block));
                hid_t mspace = mem_space(&p, &s);
                double t1 = now();
                CHECK(H5Dwrite(d, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT, buf));
                secs += now() - t1;
                H5Sclose(mspace);
                bytes += m * sizeof(double);
                calls++;
            }
            free(buf);
            H5Sclose(fspace);
            H5Dclose(d);
            emit("io", p.name, "write", bytes, calls, secs, NULL);
        } else
            run_pattern(f, &pats[i], 1);
        stats_point("io-write-%s", pats[i].name);
    }
    t0 = now();
    CHECK(H5Fclose(f));
    emit("io", "file", "close", 0, 1, now() - t0, NULL);

    t0 = now();
    f = file_open(opt.file, H5F_ACC_RDONLY);
    emit("io", "file", "open", 0, 1, now() - t0, NULL);
    stats_point("io-read-start");
    for (int i = 0; i < np; i++) {
        if (!selected(pats[i].name))
            continue;
        pattern_t p = pats[i];
        if (p.mode == 2)
            p.dset = "chunkA"; /* read quarter chunks of the dataset written whole */
        run_pattern(f, &p, 0);
        stats_point("io-read-%s", p.name);
    }
    t0 = now();
    CHECK(H5Fclose(f));
    emit("io", "file", "close-read", 0, 1, now() - t0, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* Many small datasets.                                                                        */

static void suite_small(void)
{
    hsize_t n = (hsize_t)(opt.small_bytes / sizeof(double));
    if (n < 1)
        n = 1;
    double *buf = malloc(n * sizeof(double)), *rbuf = malloc(n * sizeof(double));
    char name[64];
    fprintf(stderr, "h5bench: small: %ld datasets of %" PRIuHSIZE " doubles\n", opt.small_n, n);
    double t0 = now();
    hid_t f = file_create(opt.file);
    emit("small", "file", "create", 0, 1, now() - t0, NULL);
    hid_t space = H5Screate_simple(1, &n, NULL);
    stats_point("small-create-start");
    double secs = 0;
    for (long i = 0; i < opt.small_n; i++) {
        for (hsize_t j = 0; j < n; j++)
            buf[j] = val((uint64_t)i * n + j);
        snprintf(name, sizeof name, "d%07ld", i);
        double t1 = now();
        hid_t d = H5Dcreate2(f, name, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        CHECK(d);
        CHECK(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
        CHECK(H5Dclose(d));
        secs += now() - t1;
    }
    emit("small", "small", "create-write", (double)opt.small_n * n * sizeof(double), opt.small_n, secs,
         "\"unit\":\"datasets\"");
    stats_point("small-create-end");
    t0 = now();
    CHECK(H5Fclose(f));
    emit("small", "file", "close", 0, 1, now() - t0, NULL);
    t0 = now();
    f = file_open(opt.file, H5F_ACC_RDONLY);
    emit("small", "file", "open", 0, 1, now() - t0, NULL);
    stats_point("small-read-start");
    secs = 0;
    long bad = 0;
    for (long i = 0; i < opt.small_n; i++) {
        snprintf(name, sizeof name, "d%07ld", i);
        double t1 = now();
        hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
        CHECK(d);
        CHECK(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, rbuf));
        CHECK(H5Dclose(d));
        secs += now() - t1;
        if (rbuf[0] != val((uint64_t)i * n) || rbuf[n - 1] != val((uint64_t)i * n + n - 1))
            bad++;
    }
    emit("small", "small", "open-read", (double)opt.small_n * n * sizeof(double), opt.small_n, secs,
         "\"unit\":\"datasets\"");
    stats_point("small-read-end");
    if (bad) {
        fprintf(stderr, "h5bench: small: %ld datasets read back wrong\n", bad);
        failed = 1;
    }
    H5Sclose(space);
    CHECK(H5Fclose(f));
    free(buf);
    free(rbuf);
}

/* ------------------------------------------------------------------------------------------ */
/* Metadata stress: groups with attributes.                                                    */

static herr_t count_link(hid_t g, const char *name, const H5L_info2_t *info, void *data)
{
    (void)g;
    (void)name;
    (void)info;
    (*(long *)data)++;
    return 0;
}

static herr_t count_attr(hid_t o, const char *name, const H5A_info_t *info, void *data)
{
    (void)o;
    (void)name;
    (void)info;
    (*(long *)data)++;
    return 0;
}

static void suite_meta(void)
{
    char name[64], aname[64];
    hsize_t adims = 4;
    fprintf(stderr, "h5bench: meta: %ld groups with %ld attributes each\n", opt.groups, opt.attrs);
    double t0 = now();
    hid_t f = file_create(opt.file);
    emit("meta", "file", "create", 0, 1, now() - t0, NULL);
    hid_t aspace = H5Screate_simple(1, &adims, NULL);
    stats_point("meta-create-start");
    double secs = 0;
    t0 = now();
    for (long i = 0; i < opt.groups; i++) {
        snprintf(name, sizeof name, "g%07ld", i);
        hid_t g = H5Gcreate2(f, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        CHECK(g);
        for (long a = 0; a < opt.attrs; a++) {
            int64_t v[4] = {i, a, i + a, -1};
            snprintf(aname, sizeof aname, "attr%ld", a);
            hid_t at = H5Acreate2(g, aname, H5T_NATIVE_INT64, aspace, H5P_DEFAULT, H5P_DEFAULT);
            CHECK(at);
            CHECK(H5Awrite(at, H5T_NATIVE_INT64, v));
            CHECK(H5Aclose(at));
        }
        CHECK(H5Gclose(g));
    }
    secs = now() - t0;
    emit("meta", "meta", "create", 0, opt.groups, secs, "\"unit\":\"groups\",\"attrs_per_group\":%ld", opt.attrs);
    stats_point("meta-create-end");
    t0 = now();
    CHECK(H5Fclose(f));
    emit("meta", "file", "close", 0, 1, now() - t0, NULL);

    t0 = now();
    f = file_open(opt.file, H5F_ACC_RDONLY);
    emit("meta", "file", "open", 0, 1, now() - t0, NULL);
    stats_point("meta-open-start");
    long bad = 0;
    t0 = now();
    for (long i = 0; i < opt.groups; i++) {
        snprintf(name, sizeof name, "g%07ld", i);
        hid_t g = H5Gopen2(f, name, H5P_DEFAULT);
        CHECK(g);
        for (long a = 0; a < opt.attrs; a++) {
            int64_t v[4];
            snprintf(aname, sizeof aname, "attr%ld", a);
            hid_t at = H5Aopen(g, aname, H5P_DEFAULT);
            CHECK(at);
            CHECK(H5Aread(at, H5T_NATIVE_INT64, v));
            CHECK(H5Aclose(at));
            if (v[0] != i || v[1] != a)
                bad++;
        }
        CHECK(H5Gclose(g));
    }
    secs = now() - t0;
    emit("meta", "meta", "open", 0, opt.groups, secs, "\"unit\":\"groups\",\"attrs_per_group\":%ld", opt.attrs);
    stats_point("meta-open-end");

    long links = 0, attrs = 0;
    t0 = now();
    hsize_t idx = 0;
    CHECK(H5Literate2(f, H5_INDEX_NAME, H5_ITER_INC, &idx, count_link, &links));
    for (long i = 0; i < opt.groups; i++) {
        snprintf(name, sizeof name, "g%07ld", i);
        hsize_t aidx = 0;
        CHECK(H5Aiterate_by_name(f, name, H5_INDEX_NAME, H5_ITER_INC, &aidx, count_attr, &attrs, H5P_DEFAULT));
    }
    secs = now() - t0;
    emit("meta", "meta", "iterate", 0, opt.groups, secs, "\"unit\":\"groups\",\"attrs_per_group\":%ld", opt.attrs);
    stats_point("meta-iterate-end");
    if (links != opt.groups || attrs != opt.groups * opt.attrs) {
        fprintf(stderr, "h5bench: meta: iteration found %ld links and %ld attributes, expected %ld and %ld\n", links,
                attrs, opt.groups, opt.groups * opt.attrs);
        bad++;
    }
    if (bad) {
        fprintf(stderr, "h5bench: meta: %ld wrong values\n", bad);
        failed = 1;
    }
    H5Sclose(aspace);
    t0 = now();
    CHECK(H5Fclose(f));
    emit("meta", "file", "close-read", 0, 1, now() - t0, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* Scale: per-operation metadata cost against the number of objects in one group.              */

static uint64_t rng = 88172645463325252ULL;
static uint64_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void suite_scale(void)
{
    long sizes[16];
    int ns = 0;
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", opt.scale);
    char *save = NULL;
    for (char *t = strtok_r(tmp, ",", &save); t && ns < 16; t = strtok_r(NULL, ",", &save))
        sizes[ns++] = atol(t);
    char name[64];
    double t0 = now();
    hid_t f = file_create(opt.file);
    emit("scale", "file", "create", 0, 1, now() - t0, NULL);
    hid_t grp;
    CHECK(grp = H5Gcreate2(f, "big", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    long have = 0, extra = 0;
    for (int s = 0; s < ns; s++) {
        long target = sizes[s];
        if (target <= have)
            continue;
        fprintf(stderr, "h5bench: scale: growing to %ld objects\n", target);
        t0 = now();
        for (long i = have; i < target; i++) {
            snprintf(name, sizeof name, "o%08ld", i);
            hid_t g = H5Gcreate2(grp, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            CHECK(g);
            CHECK(H5Gclose(g));
        }
        double secs = now() - t0;
        emit("scale", "scale", "create", 0, target - have, secs, "\"n\":%ld", target);
        have = target;
        /* the writes of the growth are committed before the per-operation samples */
        t0 = now();
        CHECK(H5Fflush(f, H5F_SCOPE_GLOBAL));
        emit("scale", "scale", "flush-all", 0, 1, now() - t0, "\"n\":%ld", target);

        long sample = opt.scale_sample;
        t0 = now();
        for (long i = 0; i < sample; i++) {
            snprintf(name, sizeof name, "o%08ld", (long)(xorshift() % (uint64_t)have));
            hid_t g = H5Gopen2(grp, name, H5P_DEFAULT);
            CHECK(g);
            CHECK(H5Gclose(g));
        }
        emit("scale", "scale", "open", 0, sample, now() - t0, "\"n\":%ld", target);

        t0 = now();
        for (long i = 0; i < sample; i++) {
            snprintf(name, sizeof name, "o%08ld", (long)(xorshift() % (uint64_t)have));
            if (H5Lexists(grp, name, H5P_DEFAULT) <= 0)
                die("scale: %s missing", name);
        }
        emit("scale", "scale", "exists", 0, sample, now() - t0, "\"n\":%ld", target);

        t0 = now();
        for (long i = 0; i < sample; i++) {
            H5O_info2_t oi;
            snprintf(name, sizeof name, "o%08ld", (long)(xorshift() % (uint64_t)have));
            CHECK(H5Oget_info_by_name3(grp, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT));
        }
        emit("scale", "scale", "info", 0, sample, now() - t0, "\"n\":%ld", target);

        long links = 0;
        hsize_t idx = 0;
        t0 = now();
        CHECK(H5Literate2(grp, H5_INDEX_NAME, H5_ITER_INC, &idx, count_link, &links));
        emit("scale", "scale", "iterate", 0, links, now() - t0, "\"n\":%ld", target);
        if (links != have + extra)
            die("scale: iteration found %ld links, expected %ld", links, have + extra);

        /* 100 more objects (named apart from the main sequence), then a flush; ten rounds, so
         * that one flush of a fraction of a millisecond is not all the sample */
        double tc = 0, tf = 0;
        for (int round = 0; round < 10; round++) {
            t0 = now();
            for (int i = 0; i < 100; i++) {
                snprintf(name, sizeof name, "x%08ld", extra++);
                hid_t g = H5Gcreate2(grp, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
                CHECK(g);
                CHECK(H5Gclose(g));
            }
            tc += now() - t0;
            t0 = now();
            CHECK(H5Fflush(f, H5F_SCOPE_GLOBAL));
            tf += now() - t0;
        }
        emit("scale", "scale", "flush100", 0, 10, tf, "\"n\":%ld,\"create100_seconds\":%.6f", target, tc / 10);
    }
    CHECK(H5Gclose(grp));
    t0 = now();
    CHECK(H5Fclose(f));
    emit("scale", "file", "close", 0, 1, now() - t0, "\"n\":%ld", have + extra);
}


/* ------------------------------------------------------------------------------------------ */
/* Chunk scale: per-call cost of one-chunk reads and writes against the number of chunks.       */

static void suite_chunkscale(void)
{
    long sizes[16];
    int ns = 0;
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", opt.chunkscale);
    char *save = NULL;
    for (char *t = strtok_r(tmp, ",", &save); t && ns < 16; t = strtok_r(NULL, ",", &save))
        sizes[ns++] = atol(t);
    if (ns == 0)
        return;
    hsize_t ch = (hsize_t)opt.cs_chunk, maxn = (hsize_t)sizes[ns - 1] * ch;
    double t0 = now();
    hid_t f = file_create(opt.file);
    emit("chunkscale", "file", "create", 0, 1, now() - t0, NULL);
    hid_t space = H5Screate_simple(1, &maxn, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE), d;
    CHECK(H5Pset_chunk(dcpl, 1, &ch));
    CHECK(d = H5Dcreate2(f, "series", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
    H5Pclose(dcpl);
    hid_t fspace = H5Dget_space(d);
    double *one = malloc(ch * sizeof(double));
    long have = 0;
    for (int s = 0; s < ns; s++) {
        long target = sizes[s];
        if (target <= have)
            continue;
        fprintf(stderr, "h5bench: chunkscale: growing to %ld chunks of %" PRIuHSIZE " doubles\n", target, ch);
        /* growth in calls of at most 65536 chunks */
        double secs = 0;
        while (have < target) {
            long nchunks = target - have < 65536 ? target - have : 65536;
            hsize_t start = (hsize_t)have * ch, count = (hsize_t)nchunks * ch;
            double *buf = malloc(count * sizeof(double));
            if (!buf)
                die("out of memory");
            for (hsize_t i = 0; i < count; i++)
                buf[i] = val(start + i);
            CHECK(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL));
            hid_t m = H5Screate_simple(1, &count, NULL);
            double t1 = now();
            CHECK(H5Dwrite(d, H5T_NATIVE_DOUBLE, m, fspace, H5P_DEFAULT, buf));
            secs += now() - t1;
            H5Sclose(m);
            free(buf);
            have += nchunks;
        }
        emit("chunkscale", "chunkscale", "grow", 0, target, secs, "\"n\":%ld", target);
        t0 = now();
        CHECK(H5Fflush(f, H5F_SCOPE_GLOBAL));
        emit("chunkscale", "chunkscale", "flush-all", 0, 1, now() - t0, "\"n\":%ld", target);
        hid_t m = H5Screate_simple(1, &ch, NULL);
        double tw = 0, tr = 0;
        long bad = 0;
        for (long i = 0; i < opt.cs_sample; i++) {
            hsize_t c = (hsize_t)(xorshift() % (uint64_t)have), start = c * ch;
            for (hsize_t j = 0; j < ch; j++)
                one[j] = val(start + j);
            CHECK(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &ch, NULL));
            double t1 = now();
            CHECK(H5Dwrite(d, H5T_NATIVE_DOUBLE, m, fspace, H5P_DEFAULT, one));
            tw += now() - t1;
        }
        for (long i = 0; i < opt.cs_sample; i++) {
            hsize_t c = (hsize_t)(xorshift() % (uint64_t)have), start = c * ch;
            CHECK(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &ch, NULL));
            double t1 = now();
            CHECK(H5Dread(d, H5T_NATIVE_DOUBLE, m, fspace, H5P_DEFAULT, one));
            tr += now() - t1;
            if (one[0] != val(start) || one[ch - 1] != val(start + ch - 1))
                bad++;
        }
        H5Sclose(m);
        emit("chunkscale", "chunkscale", "write1", 0, opt.cs_sample, tw, "\"n\":%ld,\"chunk_bytes\":%ld", target, (long)(ch * 8));
        emit("chunkscale", "chunkscale", "read1", 0, opt.cs_sample, tr, "\"n\":%ld,\"chunk_bytes\":%ld", target, (long)(ch * 8));
        t0 = now();
        CHECK(H5Fflush(f, H5F_SCOPE_GLOBAL));
        emit("chunkscale", "chunkscale", "flush-writes", 0, 1, now() - t0, "\"n\":%ld", target);
        if (bad) {
            fprintf(stderr, "h5bench: chunkscale: %ld chunks read back wrong\n", bad);
            failed = 1;
        }
    }
    free(one);
    H5Sclose(fspace);
    H5Sclose(space);
    CHECK(H5Dclose(d));
    t0 = now();
    CHECK(H5Fclose(f));
    emit("chunkscale", "file", "close", 0, 1, now() - t0, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* Calibration: what this machine's memory does, no HDF5 call (ceilings for in-memory stores).  */

static void suite_calib(void)
{
    size_t blk = 1 << 20, total = (size_t)(opt.contig_mb * MiB), io = (size_t)(opt.io_mb * MiB), nb = total / blk;
    if (io > total)
        io = total;
    char *src = malloc(io), *dst = malloc(io), **keep = calloc(nb, sizeof(char *));
    if (!src || !dst || !keep)
        die("out of memory");
    memset(src, 1, io);
    memset(dst, 0, io);
    double t0 = now();
    for (size_t i = 0; i < nb; i++) {
        keep[i] = calloc(1, blk);
        if (!keep[i])
            die("out of memory");
        memcpy(keep[i], src + (i * blk) % io, blk);
    }
    emit("calib", "memcpy", "into-new-memory", (double)nb * blk, nb, now() - t0, NULL);
    t0 = now();
    for (size_t i = 0; i < nb; i++)
        memcpy(keep[i], src + (i * blk) % io, blk);
    emit("calib", "memcpy", "into-reused-memory", (double)nb * blk, nb, now() - t0, NULL);
    t0 = now();
    for (size_t i = 0; i < nb; i++)
        memcpy(dst + (i * blk) % io, keep[i], blk);
    emit("calib", "memcpy", "out-to-user-buffer", (double)nb * blk, nb, now() - t0, NULL);
    for (size_t i = 0; i < nb; i++)
        free(keep[i]);
    free(keep);
    free(src);
    free(dst);

    /* Latency of a dependent load at a random place, in a working set that fits in cache and in
     * one the size of a big file's tables: what a lookup pays per memory access it cannot avoid */
    size_t sets[2] = {64 << 10, (size_t)256 << 20};
    const char *names[2] = {"latency-64KiB", "latency-256MiB"};
    for (int w = 0; w < 2; w++) {
        size_t n = sets[w] / sizeof(size_t), steps = 4000000;
        size_t *next = malloc(n * sizeof(size_t));
        if (!next)
            die("out of memory");
        /* one random cycle through every slot (Sattolo), so no access is predictable */
        for (size_t i = 0; i < n; i++)
            next[i] = i;
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = (size_t)(xorshift() % i), t = next[i];
            next[i] = next[j];
            next[j] = t;
        }
        size_t at = 0;
        t0 = now();
        for (size_t i = 0; i < steps; i++)
            at = next[at];
        double secs = now() - t0;
        emit("calib", "chase", names[w], 0, (long)steps, secs, "\"end\":%zu", at);
        free(next);
    }
}
/* ------------------------------------------------------------------------------------------ */

static void usage(void)
{
    fprintf(stderr,
            "usage: h5bench [options]\n"
            "  --file NAME         file to create (default h5bench.h5); through a VOL connector, its name there\n"
            "  --core              native core driver (H5Pset_fapl_core, backing store written at close)\n"
            "  --suite LIST        io,small,meta,scale,chunkscale,calib (default io,small,meta)\n"
            "  --label TEXT        copied into every JSON line\n"
            "  --tests LIST        io suite: only these patterns (e.g. chunk-whole,strided1d)\n"
            "  --contig-mb N       size of each contiguous/strided dataset (default 256)\n"
            "  --io-mb N           bytes per H5Dwrite/H5Dread call of the contiguous patterns (default 32)\n"
            "  --stride-block N    elements per block of the strided patterns (default 64)\n"
            "  --chunk-mb N        chunk size of the chunked patterns (default 4)\n"
            "  --chunked-mb N      size of each chunked dataset (default 256)\n"
            "  --chunk-io-mb N     bytes per call of chunk-whole (default 0: the whole dataset)\n"
            "  --small N           number of small datasets (default 10000)\n"
            "  --small-bytes N     bytes per small dataset (default 1024)\n"
            "  --groups N          groups of the metadata suite (default 10000)\n"
            "  --attrs N           attributes per group (default 4)\n"
            "  --scale LIST        object counts of the scale suite (default 1000,10000,100000,1000000)\n"
            "  --scale-sample N    sampled operations per size (default 10000)\n"
            "  --chunkscale LIST   chunk counts of the chunkscale suite (default 1000,10000,100000)\n"
            "  --cs-chunk N        doubles per chunk of the chunkscale suite (default 128)\n"
            "  --cs-sample N       sampled one-chunk calls per size (default 200)\n"
            "  --no-verify         do not check data read back\n"
            "  --stats-points      mark phases for request counting (see the comment at the top)\n");
    exit(64);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
#define NEXT() (i + 1 < argc ? argv[++i] : (usage(), ""))
        if (!strcmp(a, "--file"))
            opt.file = NEXT();
        else if (!strcmp(a, "--core"))
            opt.core = 1;
        else if (!strcmp(a, "--suite"))
            snprintf(opt.suite, sizeof opt.suite, "%s", NEXT());
        else if (!strcmp(a, "--tests"))
            snprintf(opt.tests, sizeof opt.tests, "%s", NEXT());
        else if (!strcmp(a, "--label"))
            opt.label = NEXT();
        else if (!strcmp(a, "--contig-mb"))
            opt.contig_mb = atof(NEXT());
        else if (!strcmp(a, "--io-mb"))
            opt.io_mb = atof(NEXT());
        else if (!strcmp(a, "--stride-block"))
            opt.stride_block = atol(NEXT());
        else if (!strcmp(a, "--chunk-mb"))
            opt.chunk_mb = atof(NEXT());
        else if (!strcmp(a, "--chunked-mb"))
            opt.chunked_mb = atof(NEXT());
        else if (!strcmp(a, "--chunk-io-mb"))
            opt.chunk_io_mb = atof(NEXT());
        else if (!strcmp(a, "--small"))
            opt.small_n = atol(NEXT());
        else if (!strcmp(a, "--small-bytes"))
            opt.small_bytes = atol(NEXT());
        else if (!strcmp(a, "--groups"))
            opt.groups = atol(NEXT());
        else if (!strcmp(a, "--attrs"))
            opt.attrs = atol(NEXT());
        else if (!strcmp(a, "--scale"))
            snprintf(opt.scale, sizeof opt.scale, "%s", NEXT());
        else if (!strcmp(a, "--scale-sample"))
            opt.scale_sample = atol(NEXT());
        else if (!strcmp(a, "--chunkscale"))
            snprintf(opt.chunkscale, sizeof opt.chunkscale, "%s", NEXT());
        else if (!strcmp(a, "--cs-chunk"))
            opt.cs_chunk = atol(NEXT());
        else if (!strcmp(a, "--cs-sample"))
            opt.cs_sample = atol(NEXT());
        else if (!strcmp(a, "--no-verify"))
            opt.verify = 0;
        else if (!strcmp(a, "--stats-points"))
            opt.stats_points = 1;
        else
            usage();
    }
    if (opt.stride_block < 1 || opt.io_mb <= 0 || opt.contig_mb <= 0 || opt.chunk_mb <= 0 || opt.chunked_mb <= 0)
        usage();
    char suites[256];
    snprintf(suites, sizeof suites, "%s", opt.suite);
    char *save = NULL;
    for (char *t = strtok_r(suites, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strcmp(t, "io"))
            suite_io();
        else if (!strcmp(t, "small"))
            suite_small();
        else if (!strcmp(t, "meta"))
            suite_meta();
        else if (!strcmp(t, "scale"))
            suite_scale();
        else if (!strcmp(t, "chunkscale"))
            suite_chunkscale();
        else if (!strcmp(t, "calib"))
            suite_calib();
        else
            die("unknown suite %s", t);
    }
    return failed ? 1 : 0;
}
