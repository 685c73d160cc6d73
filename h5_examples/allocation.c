/*
 * Space allocation and fill values: H5Dget_space_status and H5Dget_storage_size for early,
 * late and incremental allocation of contiguous, chunked and compact datasets, after create,
 * after a partial write, after a full write, and across extension; what never-written elements
 * read as with each fill time (alloc, ifset, never). Prints what it sees, so that a run through
 * rustvol can be compared with native HDF5.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hdf5.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if ((x) < 0) {                                                                             \
            fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #x);                         \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define N 100

static const char *status_name(H5D_space_status_t s)
{
    switch (s) {
        case H5D_SPACE_STATUS_NOT_ALLOCATED:
            return "not allocated";
        case H5D_SPACE_STATUS_PART_ALLOCATED:
            return "partly allocated";
        case H5D_SPACE_STATUS_ALLOCATED:
            return "allocated";
        default:
            return "error";
    }
}

static void show(hid_t d, const char *name, const char *when)
{
    H5D_space_status_t s;
    CHECK(H5Dget_space_status(d, &s));
    printf("%-22s %-18s %-16s %llu bytes\n", name, when, status_name(s),
           (unsigned long long)H5Dget_storage_size(d));
}

static void write_range(hid_t d, hsize_t start, hsize_t count, int value)
{
    int *buf = malloc(count * sizeof(int));
    for (hsize_t i = 0; i < count; i++)
        buf[i] = value + (int)i;
    hid_t fs = H5Dget_space(d);
    CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL));
    hid_t ms = H5Screate_simple(1, &count, NULL);
    CHECK(H5Dwrite(d, H5T_NATIVE_INT, ms, fs, H5P_DEFAULT, buf));
    H5Sclose(ms);
    H5Sclose(fs);
    free(buf);
}

/* Reads the whole dataset into a buffer first set to -1 and prints a few elements. */
static void show_values(hid_t d, const char *name)
{
    hid_t fs = H5Dget_space(d);
    hssize_t n = H5Sget_simple_extent_npoints(fs);
    int *buf = malloc((size_t)n * sizeof(int));
    for (hssize_t i = 0; i < n; i++)
        buf[i] = -1;
    CHECK(H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
    printf("%-22s values: [0] %d [15] %d [25] %d [55] %d [%lld] %d\n", name, buf[0], buf[15], buf[25], buf[55],
           (long long)n - 1, buf[n - 1]);
    H5Sclose(fs);
    free(buf);
}

static const char *alloc_name(H5D_alloc_time_t t)
{
    return t == H5D_ALLOC_TIME_EARLY ? "early" : t == H5D_ALLOC_TIME_LATE ? "late" : "incr";
}

int main(int argc, char **argv)
{
    const char *filename = argc > 1 ? argv[1] : "allocation.h5";
    hid_t file = H5Fcreate(filename, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(file);
    hsize_t n = N, chunk = 10, max = H5S_UNLIMITED;
    hid_t space = H5Screate_simple(1, &n, NULL);
    hid_t ext_space = H5Screate_simple(1, &n, &max);
    H5D_alloc_time_t times[] = {H5D_ALLOC_TIME_EARLY, H5D_ALLOC_TIME_LATE, H5D_ALLOC_TIME_INCR};
    char name[64];

    for (int t = 0; t < 3; t++) {
        /* contiguous */
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        CHECK(H5Pset_alloc_time(dcpl, times[t]));
        snprintf(name, sizeof name, "contig_%s", alloc_name(times[t]));
        hid_t d = H5Dcreate2(file, name, H5T_NATIVE_INT, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        CHECK(d);
        show(d, name, "created");
        write_range(d, 20, 10, 100);
        show(d, name, "written in part");
        show_values(d, name);
        H5Dclose(d);
        H5Pclose(dcpl);

        /* chunked, fixed size */
        dcpl = H5Pcreate(H5P_DATASET_CREATE);
        CHECK(H5Pset_chunk(dcpl, 1, &chunk));
        CHECK(H5Pset_alloc_time(dcpl, times[t]));
        snprintf(name, sizeof name, "chunked_%s", alloc_name(times[t]));
        d = H5Dcreate2(file, name, H5T_NATIVE_INT, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        CHECK(d);
        show(d, name, "created");
        write_range(d, 20, 15, 200);
        show(d, name, "written in part");
        write_range(d, 0, N, 300);
        show(d, name, "written whole");
        H5Dclose(d);
        H5Pclose(dcpl);

        /* chunked, extended after a write */
        dcpl = H5Pcreate(H5P_DATASET_CREATE);
        CHECK(H5Pset_chunk(dcpl, 1, &chunk));
        CHECK(H5Pset_alloc_time(dcpl, times[t]));
        snprintf(name, sizeof name, "extended_%s", alloc_name(times[t]));
        d = H5Dcreate2(file, name, H5T_NATIVE_INT, ext_space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        CHECK(d);
        write_range(d, 0, 5, 400);
        show(d, name, "written in part");
        hsize_t bigger = 2 * N;
        CHECK(H5Dset_extent(d, &bigger));
        show(d, name, "extended");
        hsize_t smaller = 35;
        CHECK(H5Dset_extent(d, &smaller));
        show(d, name, "shrunk");
        H5Dclose(d);
        H5Pclose(dcpl);

        /* compact: allocated early only */
        dcpl = H5Pcreate(H5P_DATASET_CREATE);
        CHECK(H5Pset_layout(dcpl, H5D_COMPACT));
        CHECK(H5Pset_alloc_time(dcpl, times[t]));
        snprintf(name, sizeof name, "compact_%s", alloc_name(times[t]));
        H5E_BEGIN_TRY
        {
            d = H5Dcreate2(file, name, H5T_NATIVE_INT, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        }
        H5E_END_TRY
        if (d < 0)
            printf("%-22s refused\n", name);
        else {
            show(d, name, "created");
            write_range(d, 20, 10, 500);
            show(d, name, "written in part");
            H5Dclose(d);
        }
        H5Pclose(dcpl);
    }

    /* Defaults of each layout */
    {
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        H5D_alloc_time_t at;
        CHECK(H5Pget_alloc_time(dcpl, &at));
        printf("default alloc time, contiguous: %s\n", alloc_name(at));
        CHECK(H5Pset_chunk(dcpl, 1, &chunk));
        CHECK(H5Pget_alloc_time(dcpl, &at));
        printf("default alloc time, chunked: %s\n", alloc_name(at));
        CHECK(H5Pset_layout(dcpl, H5D_COMPACT));
        CHECK(H5Pget_alloc_time(dcpl, &at));
        printf("default alloc time, compact: %s\n", alloc_name(at));
        H5Pclose(dcpl);
    }

    /* Fill times, with a fill value of 9 and without one */
    H5D_fill_time_t fills[] = {H5D_FILL_TIME_ALLOC, H5D_FILL_TIME_IFSET, H5D_FILL_TIME_NEVER};
    const char *fill_names[] = {"alloc", "ifset", "never"};
    for (int f = 0; f < 3; f++) {
        for (int with = 0; with < 2; with++) {
            for (int layout = 0; layout < 2; layout++) {
                hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
                if (layout)
                    CHECK(H5Pset_chunk(dcpl, 1, &chunk));
                CHECK(H5Pset_fill_time(dcpl, fills[f]));
                if (with) {
                    int nine = 9;
                    CHECK(H5Pset_fill_value(dcpl, H5T_NATIVE_INT, &nine));
                }
                snprintf(name, sizeof name, "fill_%s_%s_%s", fill_names[f], with ? "9" : "none",
                         layout ? "chunk" : "contig");
                hid_t d = H5Dcreate2(file, name, H5T_NATIVE_INT, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
                CHECK(d);
                /* Before any write: nothing is allocated */
                show_values(d, name);
                /* Whole chunks 2 and 3 written */
                write_range(d, 20, 20, 600);
                show(d, name, "written in part");
                if (layout || fills[f] != H5D_FILL_TIME_NEVER)
                    show_values(d, name);
                H5Dclose(d);
                H5Pclose(dcpl);
            }
        }
    }

    H5Sclose(space);
    H5Sclose(ext_space);
    CHECK(H5Fclose(file));

    /* Reopened: the same answers */
    file = H5Fopen(filename, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(file);
    const char *again[] = {"contig_early", "contig_late", "chunked_early", "chunked_incr", "extended_early",
                           "extended_late", "extended_incr", "compact_early", "fill_never_9_chunk"};
    for (size_t i = 0; i < sizeof again / sizeof again[0]; i++) {
        hid_t d = H5Dopen2(file, again[i], H5P_DEFAULT);
        CHECK(d);
        show(d, again[i], "reopened");
        H5Dclose(d);
    }
    CHECK(H5Fclose(file));
    return 0;
}
