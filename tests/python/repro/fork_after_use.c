/* A process writes and closes a file, then fork()s; the child writes another file.  This is
 * what Python's multiprocessing (fork start method, the default on Linux before Python 3.14)
 * does.  Native HDF5 and rustvol's memory backend finish; with backend=dir or s3 the child
 * never returns from H5Fcreate/H5Fclose (it is killed after 20 s). */
#include <hdf5.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
static int write_one(const char *name) {
    hid_t f = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return -1;
    H5Gclose(H5Gcreate2(f, "g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    return H5Fclose(f);
}
int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("parent: write %s\n", write_one("parent.h5") < 0 ? "FAILED" : "ok");
    pid_t pid = fork();
    if (pid == 0) {
        alarm(20);   /* SIGALRM ends a hung child */
        printf("child: write %s\n", write_one("child.h5") < 0 ? "FAILED" : "ok");
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st))
        printf("parent: the child was killed by signal %d (hung for 20 s)\n", WTERMSIG(st));
    else
        printf("parent: the child exited with status %d\n", WEXITSTATUS(st));
    return 0;
}
