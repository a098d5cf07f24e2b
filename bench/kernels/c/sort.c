/* sort: quicksort (median of three, insertion sort for short ranges) and a top-down
 * mergesort over pseudo-random 32-bit integers; checks both orders agree.
 * Usage: sort [SCALE]; prints one checksum line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 100000

static void insertion(int32_t *a, int lo, int hi) {
    for (int i = lo + 1; i <= hi; i++) {
        int32_t v = a[i];
        int j = i - 1;
        while (j >= lo && a[j] > v) { a[j + 1] = a[j]; j--; }
        a[j + 1] = v;
    }
}

static void quicksort(int32_t *a, int lo, int hi) {
    while (hi - lo > 16) {
        int mid = lo + (hi - lo) / 2;
        /* median of three into a[mid] */
        if (a[mid] < a[lo]) { int32_t t = a[mid]; a[mid] = a[lo]; a[lo] = t; }
        if (a[hi] < a[lo]) { int32_t t = a[hi]; a[hi] = a[lo]; a[lo] = t; }
        if (a[hi] < a[mid]) { int32_t t = a[hi]; a[hi] = a[mid]; a[mid] = t; }
        int32_t pivot = a[mid];
        int i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) { int32_t t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
        }
        /* recurse into the smaller side, loop on the larger */
        if (j - lo < hi - i) { quicksort(a, lo, j); lo = i; }
        else { quicksort(a, i, hi); hi = j; }
    }
    insertion(a, lo, hi);
}

static void mergesort_rec(int32_t *a, int32_t *tmp, int lo, int hi) { /* [lo, hi) */
    if (hi - lo <= 12) { insertion(a, lo, hi - 1); return; }
    int mid = lo + (hi - lo) / 2;
    mergesort_rec(a, tmp, lo, mid);
    mergesort_rec(a, tmp, mid, hi);
    if (a[mid - 1] <= a[mid]) return;
    int i = lo, j = mid, k = lo;
    while (i < mid && j < hi) tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
    while (i < mid) tmp[k++] = a[i++];
    while (j < hi) tmp[k++] = a[j++];
    memcpy(a + lo, tmp + lo, sizeof(int32_t) * (size_t)(hi - lo));
}

int main(int argc, char **argv) {
    int scale = argc > 1 ? atoi(argv[1]) : 47; /* the default takes about 0.4 s natively */
    if (scale < 1) scale = 1;
    int32_t *a = malloc(sizeof(int32_t) * N), *b = malloc(sizeof(int32_t) * N), *tmp = malloc(sizeof(int32_t) * N);
    if (!a || !b || !tmp) return 1;
    uint64_t x = 0x2545f4914f6cdd1dull;
    uint32_t acc = 0;
    for (int r = 0; r < scale; r++) {
        for (int i = 0; i < N; i++) {
            x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
            uint32_t v = (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
            /* every fourth round has many duplicates */
            a[i] = (r & 3) == 3 ? (int32_t)(v % 1000u) : (int32_t)v;
        }
        memcpy(b, a, sizeof(int32_t) * N);
        quicksort(a, 0, N - 1);
        mergesort_rec(b, tmp, 0, N);
        for (int i = 0; i < N; i++) {
            if (a[i] != b[i] || (i && a[i - 1] > a[i])) { printf("sort mismatch at %d\n", i); return 1; }
        }
        for (int i = 0; i < N; i += 97) acc = acc * 31u + (uint32_t)a[i];
    }
    printf("sort %u\n", acc);
    free(a); free(b); free(tmp);
    return 0;
}
