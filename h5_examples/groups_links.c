/*
 * groups_links: the namespace of an HDF5 file.
 *
 * Nested groups (with intermediate-group creation), hard, soft and external links, dangling
 * links, link iteration by name (both directions) and by creation order, recursive visiting
 * with H5Lvisit2, object info with H5Oget_info3 and deletion.
 *
 * Usage: groups_links [FILE]   (default: groups_links.h5; the external file is FILE with
 * ".h5" replaced by "_ext.h5").  Uses only the public HDF5 API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hdf5.h"

#define CHECK(expr)                                                                    \
    do {                                                                               \
        if ((expr) < 0) {                                                              \
            fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #expr);           \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

static const char *link_type_name(H5L_type_t t)
{
    switch (t) {
        case H5L_TYPE_HARD: return "hard";
        case H5L_TYPE_SOFT: return "soft";
        case H5L_TYPE_EXTERNAL: return "external";
        default: return "user-defined";
    }
}

static const char *obj_type_name(H5O_type_t t)
{
    switch (t) {
        case H5O_TYPE_GROUP: return "group";
        case H5O_TYPE_DATASET: return "dataset";
        case H5O_TYPE_NAMED_DATATYPE: return "datatype";
        default: return "unknown";
    }
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Prints one link; for soft and external links also the value. */
static herr_t print_link(hid_t group, const char *name, const H5L_info2_t *info, void *op_data)
{
    const char *indent = op_data;
    printf("%s%-22s %s", indent, name, link_type_name(info->type));
    if (info->type == H5L_TYPE_SOFT || info->type == H5L_TYPE_EXTERNAL) {
        char *val = malloc(info->u.val_size);
        if (H5Lget_val(group, name, val, info->u.val_size, H5P_DEFAULT) < 0)
            return -1;
        if (info->type == H5L_TYPE_SOFT)
            printf(" -> %s", val);
        else {
            const char *file = NULL, *obj = NULL;
            unsigned flags = 0;
            if (H5Lunpack_elink_val(val, info->u.val_size, &flags, &file, &obj) < 0)
                return -1;
            printf(" -> %s:%s", base_name(file), obj);
        }
        free(val);
    }
    if (info->type == H5L_TYPE_HARD && info->corder_valid)
        printf(" (creation order %lld)", (long long)info->corder);
    printf("\n");
    return 0;
}

/* Stops the iteration after the third link. */
static herr_t stop_after_three(hid_t group, const char *name, const H5L_info2_t *info, void *op_data)
{
    (void)group;
    (void)info;
    int *count = op_data;
    printf("    %s\n", name);
    return ++*count == 3 ? 1 : 0;
}

/* H5Lvisit2 callback: the link path and, for hard links, the object's type. */
static herr_t visit_link(hid_t group, const char *name, const H5L_info2_t *info, void *op_data)
{
    (void)op_data;
    printf("  %-28s %s", name, link_type_name(info->type));
    if (info->type == H5L_TYPE_HARD) {
        H5O_info2_t oinfo;
        if (H5Oget_info_by_name3(group, name, &oinfo, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
            return -1;
        printf(" %s", obj_type_name(oinfo.type));
    }
    printf("\n");
    return 0;
}

static void make_dataset(hid_t loc, const char *name, int first, int n)
{
    hsize_t dims[1] = {(hsize_t)n};
    int *buf = malloc(sizeof(int) * (size_t)n);
    for (int i = 0; i < n; i++)
        buf[i] = first + i;
    hid_t space = H5Screate_simple(1, dims, NULL);
    hid_t dset = H5Dcreate2(loc, name, H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(dset);
    CHECK(H5Dwrite(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
    CHECK(H5Dclose(dset));
    CHECK(H5Sclose(space));
    free(buf);
}

static void print_object(hid_t file, const char *path)
{
    H5O_info2_t oinfo;
    CHECK(H5Oget_info_by_name3(file, path, &oinfo, H5O_INFO_BASIC | H5O_INFO_NUM_ATTRS, H5P_DEFAULT));
    printf("  %-24s %-8s %u hard link(s), %llu attribute(s)\n", path, obj_type_name(oinfo.type),
           oinfo.rc, (unsigned long long)oinfo.num_attrs);
}

int main(int argc, char **argv)
{
    const char *filename = argc > 1 ? argv[1] : "groups_links.h5";
    char ext_filename[4096];
    size_t len = strlen(filename);
    if (len > 3 && strcmp(filename + len - 3, ".h5") == 0)
        snprintf(ext_filename, sizeof ext_filename, "%.*s_ext.h5", (int)(len - 3), filename);
    else
        snprintf(ext_filename, sizeof ext_filename, "%s_ext.h5", filename);

    /* The file that the external link points into. */
    {
        hid_t ext = H5Fcreate(ext_filename, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        CHECK(ext);
        hid_t g = H5Gcreate2(ext, "shared", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        CHECK(g);
        make_dataset(g, "lookup", 1000, 4);
        CHECK(H5Gclose(g));
        CHECK(H5Fclose(ext));
    }

    hid_t file = H5Fcreate(filename, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(file);

    /* Intermediate groups created on the way. */
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    CHECK(H5Pset_create_intermediate_group(lcpl, 1));
    hid_t deep = H5Gcreate2(file, "/archive/2024/q3", lcpl, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(deep);
    make_dataset(deep, "totals", 10, 3);
    CHECK(H5Gclose(deep));
    CHECK(H5Pclose(lcpl));

    /* A group that tracks and indexes the creation order of its links. */
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    CHECK(H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED));
    hid_t ordered = H5Gcreate2(file, "/ordered", H5P_DEFAULT, gcpl, H5P_DEFAULT);
    CHECK(ordered);
    CHECK(H5Pclose(gcpl));

    const char *children[] = {"zeta", "alpha", "mike", "beta"};
    for (int i = 0; i < 4; i++) {
        hid_t g = H5Gcreate2(ordered, children[i], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        CHECK(g);
        CHECK(H5Gclose(g));
    }
    make_dataset(ordered, "zeta/readings", 0, 5);
    make_dataset(ordered, "samples", 100, 6);
    CHECK(H5Lcreate_hard(ordered, "zeta", ordered, "alias_of_zeta", H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Lcreate_soft("/ordered/alpha", ordered, "shortcut", H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Lcreate_soft("/ordered/nowhere", ordered, "dangling", H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Lcreate_external(ext_filename, "/shared/lookup", ordered, "external", H5P_DEFAULT,
                             H5P_DEFAULT));
    CHECK(H5Lcreate_hard(file, "/archive/2024/q3/totals", file, "/latest_totals", H5P_DEFAULT,
                         H5P_DEFAULT));
    CHECK(H5Gclose(ordered));
    CHECK(H5Fclose(file));

    file = H5Fopen(filename, H5F_ACC_RDWR, H5P_DEFAULT);
    CHECK(file);
    ordered = H5Gopen2(file, "/ordered", H5P_DEFAULT);
    CHECK(ordered);

    H5G_info_t ginfo;
    CHECK(H5Gget_info(ordered, &ginfo));
    printf("/ordered has %llu links\n", (unsigned long long)ginfo.nlinks);

    hsize_t idx = 0;
    printf("by name, increasing:\n");
    CHECK(H5Literate2(ordered, H5_INDEX_NAME, H5_ITER_INC, &idx, print_link, "  "));
    printf("by name, decreasing:\n");
    idx = 0;
    CHECK(H5Literate2(ordered, H5_INDEX_NAME, H5_ITER_DEC, &idx, print_link, "  "));
    printf("by creation order, increasing:\n");
    idx = 0;
    CHECK(H5Literate2(ordered, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, print_link, "  "));
    printf("by creation order, decreasing, from /:\n");
    idx = 0;
    CHECK(H5Literate_by_name2(file, "ordered", H5_INDEX_CRT_ORDER, H5_ITER_DEC, &idx, print_link,
                              "  ", H5P_DEFAULT));

    printf("stopping early, then resuming:\n");
    {
        int count = 0;
        idx = 0;
        herr_t ret = H5Literate2(ordered, H5_INDEX_NAME, H5_ITER_INC, &idx, stop_after_three, &count);
        printf("  stopped with %d at index %llu\n", (int)ret, (unsigned long long)idx);
        count = 0;
        ret = H5Literate2(ordered, H5_INDEX_NAME, H5_ITER_INC, &idx, stop_after_three, &count);
        printf("  stopped with %d at index %llu\n", (int)ret, (unsigned long long)idx);
    }

    {
        char name[64];
        ssize_t n = H5Lget_name_by_idx(file, "/ordered", H5_INDEX_CRT_ORDER, H5_ITER_INC, 2, name,
                                       sizeof name, H5P_DEFAULT);
        CHECK(n);
        printf("third link by creation order: %s (%zd characters)\n", name, n);
        n = H5Lget_name_by_idx(file, "/ordered", H5_INDEX_NAME, H5_ITER_DEC, 0, name, sizeof name,
                               H5P_DEFAULT);
        CHECK(n);
        printf("last link by name: %s\n", name);
    }

    printf("visiting / recursively:\n");
    CHECK(H5Lvisit2(file, H5_INDEX_NAME, H5_ITER_INC, visit_link, NULL));

    printf("objects:\n");
    print_object(file, "/");
    print_object(file, "/archive/2024");
    print_object(file, "/ordered/zeta");
    print_object(file, "/ordered/shortcut");
    print_object(file, "/latest_totals");

    {
        H5O_info2_t a, b, c;
        CHECK(H5Oget_info_by_name3(file, "/ordered/zeta", &a, H5O_INFO_BASIC, H5P_DEFAULT));
        CHECK(H5Oget_info_by_name3(file, "/ordered/alias_of_zeta", &b, H5O_INFO_BASIC, H5P_DEFAULT));
        CHECK(H5Oget_info_by_name3(file, "/ordered/alpha", &c, H5O_INFO_BASIC, H5P_DEFAULT));
        int cmp_ab = 1, cmp_ac = 0;
        CHECK(H5Otoken_cmp(file, &a.token, &b.token, &cmp_ab));
        CHECK(H5Otoken_cmp(file, &a.token, &c.token, &cmp_ac));
        printf("zeta and alias_of_zeta are %s\n", cmp_ab == 0 ? "the same object" : "different objects");
        printf("zeta and alpha are %s\n", cmp_ac == 0 ? "the same object" : "different objects");
        hid_t obj = H5Oopen_by_token(file, b.token);
        CHECK(obj);
        char path[128];
        CHECK(H5Iget_name(obj, path, sizeof path));
        printf("opened by token: a %s\n", H5Iget_type(obj) == H5I_GROUP ? "group" : "non-group");
        CHECK(H5Oclose(obj));
    }

    printf("links and objects:\n");
    const char *probe[] = {"/ordered/shortcut", "/ordered/dangling", "/ordered/external",
                           "/ordered/missing", "/archive/2024/q3/totals"};
    for (int i = 0; i < 5; i++) {
        htri_t l = H5Lexists(file, probe[i], H5P_DEFAULT);
        CHECK(l);
        htri_t o = 0;
        if (l) {
            H5E_BEGIN_TRY { o = H5Oexists_by_name(file, probe[i], H5P_DEFAULT); } H5E_END_TRY
            if (o < 0)
                o = 0;
        }
        printf("  %-24s link %-3s object %s\n", probe[i], l ? "yes" : "no", o ? "yes" : "no");
    }

    /* Following the external link into the other file. */
    {
        hid_t dset = H5Dopen2(ordered, "external", H5P_DEFAULT);
        CHECK(dset);
        int buf[4] = {0};
        CHECK(H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
        printf("through the external link: %d %d %d %d\n", buf[0], buf[1], buf[2], buf[3]);
        CHECK(H5Dclose(dset));
    }
    /* Following the soft link. */
    {
        hid_t g = H5Gopen2(file, "/ordered/shortcut", H5P_DEFAULT);
        CHECK(g);
        CHECK(H5Gget_info(g, &ginfo));
        printf("through the soft link: a group with %llu links\n", (unsigned long long)ginfo.nlinks);
        CHECK(H5Gclose(g));
    }

    /* Deleting one of two hard links keeps the object; moving renames. */
    CHECK(H5Ldelete(ordered, "zeta", H5P_DEFAULT));
    CHECK(H5Lmove(ordered, "mike", file, "/archive/mike", H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Lcopy(ordered, "shortcut", ordered, "shortcut2", H5P_DEFAULT, H5P_DEFAULT));
    printf("after deleting zeta, moving mike and copying shortcut:\n");
    idx = 0;
    CHECK(H5Literate2(ordered, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, print_link, "  "));
    print_object(file, "/ordered/alias_of_zeta");
    {
        int buf[5] = {0};
        hid_t dset = H5Dopen2(file, "/ordered/alias_of_zeta/readings", H5P_DEFAULT);
        CHECK(dset);
        CHECK(H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
        printf("  alias_of_zeta/readings: %d %d %d %d %d\n", buf[0], buf[1], buf[2], buf[3], buf[4]);
        CHECK(H5Dclose(dset));
    }
    idx = 0;
    CHECK(H5Literate_by_name2(file, "/archive", H5_INDEX_NAME, H5_ITER_INC, &idx, print_link, "  /archive/",
                              H5P_DEFAULT));

    CHECK(H5Gclose(ordered));
    CHECK(H5Fclose(file));
    printf("closed\n");
    return 0;
}
