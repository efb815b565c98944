/* cmd_play.c - `limpid play FILE [--output DEV] [--seconds N]`: play an audio file through
 * PortAudio (libsndfile reads it; pa_play in pa_util.c resamples when the device refuses the
 * file's rate, maps the channels and feeds the audio callback through a lock-free ring).
 */
#include "audio.h"
#include "cli.h"
#include "pa_util.h"

#include <math.h>
#include <sndfile.h>
#include <string.h>

#define CMD "play"

static void usage(FILE *f)
{
    fprintf(f,
"usage: limpid play FILE [--output DEV] [--seconds N] [-q]\n"
"\n"
"Play an audio file (any format libsndfile reads) through PortAudio, e.g. to listen to\n"
"the output of 'limpid denoise'. A mono file plays on both channels of a stereo device.\n"
"When the device does not take the file's sample rate, the file is resampled to the\n"
"device's default rate (libsamplerate).\n"
"\n"
"  --output DEV      output device: an index or a (part of a) name from\n"
"                    'limpid live --list-devices' (default: PortAudio's default output)\n"
"  --seconds N       play at most the first N seconds\n"
"  -q, --quiet       no information or progress lines\n"
"  -h, --help        this help\n"
"\n"
"A progress line updates on stderr when it is a terminal. Ctrl-C stops at once.\n"
"What the audio back-ends print while PortAudio probes them is hidden unless PortAudio\n"
"fails to start; LIMPID_PA_VERBOSE=1 shows it.\n"
"\n"
"Exit status: 0 played, 1 error (file, device), 2 usage error, 130 interrupted.\n");
}

typedef struct file_src {
    SNDFILE *sf;
    const char *path;
    int ch;
    int nonfinite;
} file_src;

static long file_read(void *user, float *buf, long frames)
{
    file_src *f = user;
    sf_count_t n = sf_readf_float(f->sf, buf, frames);
    if (n < 0 || (n == 0 && sf_error(f->sf) != SF_ERR_NO_ERROR)) {
        cli_error(CMD, "%s: read error: %s", f->path, sf_strerror(f->sf));
        return -1;
    }
    size_t m = (size_t)n * (size_t)f->ch;
    for (size_t i = 0; i < m; i++)
        if (!isfinite(buf[i])) {
            buf[i] = 0.0f;
            f->nonfinite = 1;
        }
    return (long)n;
}

enum { OPT_OUTPUT = 1, OPT_SECONDS, OPT_QUIET, OPT_HELP };

int cmd_play(int argc, char **argv)
{
    static const cli_opt opts[] = {
        {"output", 0, 1, OPT_OUTPUT},
        {"seconds", 0, 1, OPT_SECONDS},
        {"quiet", 'q', 0, OPT_QUIET},
        {"help", 'h', 0, OPT_HELP},
        {NULL, 0, 0, 0},
    };
    const char *path = NULL, *device = NULL, *val;
    double seconds = 0.0;
    int quiet = 0, id;
    cli_args a;
    cli_args_init(&a, CMD, argc, argv);
    while ((id = cli_args_next(&a, opts, &val)) != CLI_END) {
        switch (id) {
        case CLI_ERROR:
            return CLI_EXIT_USAGE;
        case CLI_POSITIONAL:
            if (path)
                return cli_usage_error(CMD, "one file at a time ('%s' and '%s')", path, val);
            path = val;
            break;
        case OPT_OUTPUT:
            device = val;
            break;
        case OPT_SECONDS:
            if (cli_opt_double(&a, val, 1e-3, 1e9, &seconds))
                return CLI_EXIT_USAGE;
            break;
        case OPT_QUIET:
            quiet = 1;
            break;
        case OPT_HELP:
            usage(stdout);
            return CLI_EXIT_OK;
        }
    }
    if (!path)
        return cli_usage_error(CMD, "no file to play");

    SF_INFO si;
    memset(&si, 0, sizeof si);
    SNDFILE *sf = sf_open(path, SFM_READ, &si);
    char why[1024];
    if (!sf) {
        audio_open_failure(path, why, sizeof why);
        cli_error(NULL, "%s: %s", path, why);
        return CLI_EXIT_FAIL;
    }
    if (audio_check_format(si.samplerate, si.channels, why, sizeof why)) {
        cli_error(NULL, "%s: %s", path, why);
        sf_close(sf);
        return CLI_EXIT_FAIL;
    }
    cli_install_stop_signals();
    file_src f = {sf, path, si.channels, 0};
    pa_play_opts po = {
        .cmd = CMD,
        .device = device,
        .label = path,
        .rate = si.samplerate,
        .channels = si.channels,
        .frames = si.frames,
        .max_seconds = seconds,
        .quiet = quiet,
    };
    int rc = pa_play(&po, file_read, &f);
    if (f.nonfinite)
        cli_warn(CMD, "%s: NaN or infinite samples, played as 0", path);
    sf_close(sf);
    return rc;
}
