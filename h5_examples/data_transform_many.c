/*
 * data_transform_many: many data-transform expressions on every native numeric type.
 *
 * Each expression (random ones from the grammar of H5Pset_data_transform: + - * /, unary
 * minus, parentheses, integer and decimal constants; data is only divided by non-zero
 * constants, as integer data divided by zero data traps in native HDF5) is applied on write
 * and on read to 8 values of each native integer and floating type, long double included.
 * One line per expression gives, per type, hashes of the bytes read back after a
 * transformed write and after a transformed read: a difference from native HDF5 in any bit
 * of any element shows.
 *
 * Usage: data_transform_many [FILE]   (default: data_transform_many.h5).  Public HDF5 API only.
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

#define N 8

static const char *exprs[] = {
    "(((x)*x*(x/10*x+x))*x*x)/0.1-(x)-(((x/8-x*x-x)/0.5+x/1))/2.5",
    "(((x)/10-x+x)/122*x)/3.75-x/3.75-(x/4+((x/2.5/31)*(x/1./10)+(x/1.*x+x/71+x/1/89)*x*-x--237)/10*x--x/100/10)",
    "(((x*x*x)/100/5)/186/3.75)/74-0/6",
    "(((x/0.5*x+x*x-x*x*x)*x-x*(x/4*x+x*x+x*x/1.)*x+(x+x/1./10))/7)/1.*281+(-1.-x-x/.25)*x*x",
    "(((x/10*x)-x)/4+x)*((x*x*(x*x*x)--x*x+1)/4+x)/7-(x/8)*x-x",
    "(((x/9*x)-x*9-x)/8/100-(210*x-0.5/7--x)-x/2.5)/100/189--x+8/4/3",
    "((-x*.25+x+-.25/5/3.75)/8*x-x-x/7*x)",
    "((-x/10+-x*x/39+(x-x)*(x+x*x))*(x/64)/0.5-x/100/.25)*x/100-0.1/7-x*x",
    "((0.1/1.-(x-x/107-x/1.*x))*6/63+(x*(x*x)*(x/7+x+x)))*(x*(x/272/7+274*x/.25+(x/6)))/4",
    "((278*x/1.+264*(x/130/243)-5)-2.5)/2.5+x-x",
    "((x)*x)-x*(-x+x)*x+x/100/100",
    "((x*(x/5/.25+x*x*x))/10-(x/64*(x/165+x))*0)",
    "((x*1/1.+x)*(x/3*x+x))-4",
    "((x+(x*x*x-x*x)*x+x*(x+x/3/6)*x)+0.5/37*-x)/0.5/3.75+(x)/5*(-x+(6)-210*178)-x*x/41",
    "(-1*x+-272*x+(5*0.1/155))",
    "(-2.5*(x*(x*x*x))/100)*7/0.1+2.5-(10*(x+28))/218",
    "(-41*x*x-((x/228*x)+3.75/6/9)*(x/.25-7)-x*x)-x--x/300*x",
    "(1*9/1+-x*(x/10)*((x/5/3)*(x*x/.25-x*x)/12+x*288))-(2.5*(x/.25*(x/0.1-x*x/3-x*x/151)+(x)))*172/152-x",
    "(199--2.5*-3.75+(x*-199-x*(x)/1)/0.5/2)*0.5",
    "(3.75/228/100-1.*x)+-3/0.1*9+x",
    "(39+((x*x+x/5+x))/136*x)*((x*x/243-x*8*-5-x)/6/6)*x+(((x*x/252-x-x/0.5/10)-x)*x-x)*-x",
    "(5)*(x/8)-9/9-73*(x*(0*(x*x*x+x+x/0.1)*(x*x+x*x+x)-(x/111-x/.25)*(x/140+x/9*x)+(x+x/63-x*x*x)*x))/284",
    "(5)/179-x/10",
    "(6*1./0.5-x/7)-((-8*-x/4))/10+(2.5/9+-x+x*-x)*x",
    "(x)/1.--2-((x/9*-x)--0.1)/156*x",
    "(x*(113*(x*x+x/7/6)-2.5)/0.1-3/0.5)/0.5/78-x/8-x",
    "(x*x-((x*x*x+x*x*x)--x)*x*193+x*x)/291/8+0.5/8+(100*10-4/1/.25-(204-x-(x)*(x)/7)*(5*100+(x+x/10)*(x*x*x+x+x*x)))",
    "(x+(1.*x/10+1.))/1.+x+x*x*(x+(.25*-x))",
    "(x-103/50)-((x/4/0.5)/247*x)+((x)*(x*5)/4)*(2+x--9*x)",
    "(x/.25+251+(1./157-x/255*x+x/8*8)*x)+x*-x*x",
    "(x/8+x/286)/8/186--x-(x/1-9/2.5*2)",
    "-1*x-(((x*x)/8+-x*x*x-(x/0.1/9)/1.)*((x-x*x/0.1)/5)/103)*(x-((x/8+x/10)/232*(x*x/1+x+x*x))*x/10)",
    "-2*(x/3.75*281)+2/141",
    "-3/154/5+x",
    "-300+x/165/265",
    "-x/18",
    ".25*(76*x-0/7)*x+0",
    ".25/100+x/100*((x/248)*146)",
    "0+x/3.75/6",
    "0.1/.25--49*22-((-x))*1./0.1",
    "0.5+128*-5+x*((3/7-(x/257/9+x))+x/10-(-x/100+-7)*(x*(x+x*x*x-x)/250-(x*x-x-x)*x/7-x))",
    "1/0.1-(206*x*-0.1)*-9/7-(x*(x-x*x/6--8*x/0.5)*-0.1)/0.1*(9-292)",
    "10/4/1+x",
    "10/5-79*-x",
    "167+-258*(x+-x*-3.75*(x*0.1)-3/8/.25)*21+x*6/118",
    "3*(.25-100/5-(.25/1./48+x)/254)",
    "3.75-x*4/44+-x*(202*((x/1*x-x/278+x*x/126)*-x*0-(x))+-19)*0.1",
    "300-247*x*-x",
    "4*x/119+(((x)+x*x*(x*x*x)-(x*x/113+x/5)*x)*(283*4*-x+13-7*0.1*(x+x*x*x))*(0.1*(x)+-x/10*x-(x-x*x))-3.75*x+-10)/.25",
    "6/5/39+x-((223/.25*(x*x-x/4/5-x/95*x)+(x+x*x*x-x*x/23)*(x/8+x*x+x)/2-(x)*0.5))/6",
    "7+(-x*(x/6))/0.5",
    "9/.25*1.+-x*(282+(81*x+(x*x/9+x/0.1/6)*(x*x*x-x-x/190))*(-x/5*1.-x))",
    "93+290*x/1+x*2",
    "x",
    "x*(-1)+x/2.5*x+(x/9/0.1+3/100)/9",
    "x*(x*160*0.1+2.5*63/7-x*((x*x*x-x/4+x)*x-1)/3)*47",
    "x*-x-x/7",
    "x*8",
    "x*x*x+8-(x+1./5)/244/27",
    "x*x+-10*x-((x+200)*(-2*x/2-(x)*(x*x-x))-7/143*(x*(x*x*x-x/277*x)))",
    "x+3*((x+(x/7/7))*x+0.1*.25-x*x)-0*x*((x*(x)+x/100-x/4*x)/5*3.75-(x-5))",
    "x+x*x+x/6*8",
    "x-(((x)*(x*x/28-x/5*x)*(x/100/5))-x)",
    "x-((x*-x+149/5/215)/292+33/8*(8*-9*x-x*0.1-(x/6+x/2+x*x)*x)+x*x)+(((x*x)/6)*0.5+x*(x/3.75/171-x/2.5/0.1)/48+-x*x)",
    "x-2.5*(9+(1))*(3*x*((x+x/9+x)/100*4-(x+x)-x*x*x)+x*248+(x+(x)/100/100))",
    "x-x*252*x+x/38",
    "x/.25/58-x/4-9*x/294",
    "x/0.1*(.25/148)-x*(x*(x*(x*x*x-x*x+x/5)/7)*(0.5-x/10))/0.1-(((x*x/8+x)/100/2.5+x/3-(x+x/2-x/6*x)/2)*.25*x)*x",
    "x/0.1/5",
    "x/1",
    "x/1--x-(((x*x*x-x*x)+3*x*x)*(x+6*0.1)/38)",
    "x/104*x+(5)",
    "x/15+0.5*(-10/73-0.5/0.5/1+(x*-x+(x/2*x)/0.5*x))",
    "x/2-x-(x+(x/9-x*-48/5))",
    "x/3",
    "x/3-5+(-100+((x*x-x*x+x/1)/9*(x/171*x)+(x))/3.75)*0.1",
    "x/6+(x*203+x/3.75*x+(25))*x*(x*(x*254-(x-x*x))*x-(5/5*(x*x))*x*x)",
    "x/6+x-(x*((x+x/9)+x+x/7)+x*x-x*x*((x/9*x)*x/2.5+9*x/5))",
    "x/7*3.75",
    "x/8",
    "-x",
    "x*x",
    "x-x",
    "x*x*x-x",
    "7",
    "-3",
    "2.5",
    "x/3",
    "(x-7)/2",
    "x*2.5+0.125"
};

/* FNV-1a over the value bytes of n elements (long double: its 10 value bytes). */
static unsigned long long hash(const unsigned char *b, size_t size, size_t value, int n)
{
    unsigned long long h = 1469598103934665603ull;
    for (int i = 0; i < n; i++)
        for (size_t j = 0; j < value; j++) {
            h ^= b[i * size + j];
            h *= 1099511628211ull;
        }
    return h;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "data_transform_many.h5";
    hid_t       file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(file);
    hid_t types[] = {H5T_NATIVE_SCHAR, H5T_NATIVE_UCHAR, H5T_NATIVE_SHORT,  H5T_NATIVE_USHORT,
                     H5T_NATIVE_INT,   H5T_NATIVE_UINT,  H5T_NATIVE_LONG,   H5T_NATIVE_ULONG,
                     H5T_NATIVE_FLOAT, H5T_NATIVE_DOUBLE, H5T_NATIVE_LDOUBLE};
    const char *names[] = {"schar", "uchar", "short",  "ushort", "int",    "uint",
                           "long",  "ulong", "float", "double", "ldouble"};
    double  vals[N] = {0, 1, 2, 3, 7, -5, 100, -1};
    hsize_t dims[1] = {N};
    hid_t   space   = H5Screate_simple(1, dims, NULL);
    int     k       = 0;
    for (size_t e = 0; e < sizeof exprs / sizeof *exprs; e++) {
        hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
        CHECK(H5Pset_data_transform(dxpl, exprs[e]));
        printf("%s\n ", exprs[e]);
        for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
            size_t        size  = H5Tget_size(types[t]);
            size_t        value = types[t] == H5T_NATIVE_LDOUBLE ? 10 : size;
            unsigned char in[N * 16], out[N * 16];
            memset(in, 0, sizeof in);
            memcpy(in, vals, sizeof vals);
            CHECK(H5Tconvert(H5T_NATIVE_DOUBLE, types[t], N, in, NULL, H5P_DEFAULT));
            char name[32];
            snprintf(name, sizeof name, "w%d", k);
            hid_t wd = H5Dcreate2(file, name, types[t], space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            snprintf(name, sizeof name, "r%d", k++);
            hid_t rd = H5Dcreate2(file, name, types[t], space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            CHECK(wd);
            CHECK(rd);
            CHECK(H5Dwrite(wd, types[t], H5S_ALL, H5S_ALL, dxpl, in));
            CHECK(H5Dwrite(rd, types[t], H5S_ALL, H5S_ALL, H5P_DEFAULT, in));
            memset(out, 0, sizeof out);
            CHECK(H5Dread(wd, types[t], H5S_ALL, H5S_ALL, H5P_DEFAULT, out));
            unsigned long long hw = hash(out, size, value, N);
            memset(out, 0, sizeof out);
            CHECK(H5Dread(rd, types[t], H5S_ALL, H5S_ALL, dxpl, out));
            unsigned long long hr = hash(out, size, value, N);
            printf(" %s %04llx%04llx", names[t], hw & 0xffff, hr & 0xffff);
            H5Dclose(wd);
            H5Dclose(rd);
        }
        printf("\n");
        H5Pclose(dxpl);
    }
    H5Sclose(space);
    CHECK(H5Fclose(file));
    return 0;
}
