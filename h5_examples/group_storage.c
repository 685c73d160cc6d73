/* How groups hold their links, as H5Gget_info reports it: a symbol table for groups of HDF5's
 * original format (the default), compact then dense past the link phase change for groups of
 * the 1.8 format (a lower format bound of 1.8 or later, creation order tracking), and back to
 * compact when removals leave few links. The state survives closing and reopening the file.
 *
 * Usage: group_storage FILE
 */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if ((x) < 0) {                                                                             \
            fprintf(stderr, "failed: %s (line %d)\n", #x, __LINE__);                              \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static const char *storage_name(H5G_storage_type_t t)
{
    switch (t) {
        case H5G_STORAGE_TYPE_SYMBOL_TABLE: return "symbol table";
        case H5G_STORAGE_TYPE_COMPACT: return "compact";
        case H5G_STORAGE_TYPE_DENSE: return "dense";
        default: return "unknown";
    }
}

static void report(hid_t loc, const char *path)
{
    H5G_info_t info;
    CHECK(H5Gget_info_by_name(loc, path, &info, H5P_DEFAULT));
    printf("  %-22s %-12s links=%llu\n", path, storage_name(info.storage_type),
           (unsigned long long)info.nlinks);
}

static void add_groups(hid_t g, const char *prefix, int from, int to)
{
    char name[64];
    for (int i = from; i < to; i++) {
        snprintf(name, sizeof name, "%s%d", prefix, i);
        hid_t c = H5Gcreate2(g, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        CHECK(c);
        CHECK(H5Gclose(c));
    }
}

static void remove_links(hid_t g, const char *prefix, int from, int to)
{
    char name[64];
    for (int i = from; i < to; i++) {
        snprintf(name, sizeof name, "%s%d", prefix, i);
        CHECK(H5Ldelete(g, name, H5P_DEFAULT));
    }
}

int main(int argc, char **argv)
{
    const char *file = argc > 1 ? argv[1] : "group_storage.h5";
    char        other[512];
    snprintf(other, sizeof other, "%s.latest.h5", file);

    /* The default format: every group is a symbol table, whatever it holds. */
    printf("default format bounds:\n");
    hid_t f = H5Fcreate(file, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(f);
    hid_t g = H5Gcreate2(f, "plain", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(g);
    add_groups(g, "g", 0, 12);
    CHECK(H5Gclose(g));
    report(f, "/");
    report(f, "plain");

    /* Tracking creation order makes a 1.8-format group even in such a file. */
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    CHECK(gcpl);
    CHECK(H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED));
    CHECK(H5Pset_link_phase_change(gcpl, 3, 2));
    g = H5Gcreate2(f, "ordered", H5P_DEFAULT, gcpl, H5P_DEFAULT);
    CHECK(g);
    report(f, "ordered");
    add_groups(g, "g", 0, 3);
    report(f, "ordered");
    add_groups(g, "g", 3, 4);
    report(f, "ordered");
    remove_links(g, "g", 0, 2);
    report(f, "ordered");
    remove_links(g, "g", 2, 3);
    report(f, "ordered");

    /* Intermediate groups take their parent's settings. */
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    CHECK(lcpl);
    CHECK(H5Pset_create_intermediate_group(lcpl, 1));
    hid_t d = H5Gcreate2(g, "mid/leaf", lcpl, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(d);
    CHECK(H5Gclose(d));
    add_groups(f, "ordered/mid/x", 0, 3);
    report(f, "ordered/mid");
    d = H5Gcreate2(f, "plain/mid2/leaf", lcpl, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(d);
    CHECK(H5Gclose(d));
    report(f, "plain/mid2");
    CHECK(H5Gclose(g));
    CHECK(H5Fclose(f));

    /* A lower bound of 1.8 or later: new groups are compact until the phase change. */
    printf("latest format bounds:\n");
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    CHECK(fapl);
    CHECK(H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST));
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    CHECK(fcpl);
    CHECK(H5Pset_link_phase_change(fcpl, 2, 1));
    f = H5Fcreate(other, H5F_ACC_TRUNC, fcpl, fapl);
    CHECK(f);
    report(f, "/");
    hid_t gcpl2 = H5Pcreate(H5P_GROUP_CREATE);
    CHECK(gcpl2);
    CHECK(H5Pset_link_phase_change(gcpl2, 3, 2));
    g = H5Gcreate2(f, "phased", H5P_DEFAULT, gcpl2, H5P_DEFAULT);
    CHECK(g);
    for (int n = 0; n < 5; n++) {
        add_groups(g, "g", n, n + 1);
        report(f, "phased");
    }
    for (int n = 0; n < 5; n++) {
        remove_links(g, "g", n, n + 1);
        report(f, "phased");
    }
    add_groups(g, "g", 0, 4);
    report(f, "phased");
    /* Moving a link within a full compact group inserts before it removes. */
    CHECK(H5Gclose(g));
    g = H5Gcreate2(f, "moved", H5P_DEFAULT, gcpl2, H5P_DEFAULT);
    CHECK(g);
    add_groups(g, "g", 0, 3);
    report(f, "moved");
    CHECK(H5Lmove(g, "g0", g, "renamed", H5P_DEFAULT, H5P_DEFAULT));
    report(f, "moved");
    CHECK(H5Gclose(g));
    hid_t anon = H5Gcreate_anon(f, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(anon);
    add_groups(anon, "a", 0, 9);
    CHECK(H5Olink(anon, f, "anon", H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Gclose(anon));
    report(f, "anon");
    add_groups(f, "r", 0, 2);
    report(f, "/");
    CHECK(H5Fclose(f));

    /* Reopened (with the default bounds): each group keeps its state. */
    printf("after reopening:\n");
    f = H5Fopen(other, H5F_ACC_RDWR, H5P_DEFAULT);
    CHECK(f);
    report(f, "/");
    report(f, "phased");
    report(f, "moved");
    report(f, "anon");
    remove_links(f, "phased/g", 0, 3);
    report(f, "phased");
    g = H5Gcreate2(f, "later", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(g);
    CHECK(H5Gclose(g));
    report(f, "later");
    CHECK(H5Fclose(f));
    f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(f);
    report(f, "ordered");
    report(f, "ordered/mid");
    report(f, "plain");
    CHECK(H5Fclose(f));

    CHECK(H5Pclose(gcpl));
    CHECK(H5Pclose(gcpl2));
    CHECK(H5Pclose(lcpl));
    CHECK(H5Pclose(fcpl));
    CHECK(H5Pclose(fapl));
    return 0;
}
