/* fuzz_audio.c - libFuzzer target for the CLI's audio reading path (libsndfile behind
 * cli/audio.c): any bytes must be read or refused with a message, never crash, overread, or
 * allocate without bound because a header lies about its length. The input is presented as a
 * file through a memfd. */
#define _GNU_SOURCE
#include "audio.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-audio", 0);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64], err[512];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    audio_info info;
    if (audio_probe(path, &info, err, sizeof err) == 0) {
        audio_check_complete(path, err, sizeof err); /* the WAV chunk walk, a seek */
        float *x = NULL;
        size_t n = 0;
        if (audio_read_mono(path, 16000, &x, &n, NULL, err, sizeof err) == 0)
            free(x);
        float crop[512];
        audio_read_crop(path, 16000, 100, 512, crop, err, sizeof err);
    }
    close(fd);
    return 0;
}
