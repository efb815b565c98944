/* pa_util.h - PortAudio helpers of the CLI: start-up, device lookup and listing, and a file
 * or buffer player (`limpid play`, later `limpid generate --play`).
 *
 * Device specifications (--input / --output DEV): a device index as `--list-devices` prints
 * it, or a device name: an exact (case-insensitive) name first, else a unique
 * case-insensitive substring among the devices with channels in the wanted direction.
 * NULL picks PortAudio's default device for that direction.
 *
 * Messages name the command ("limpid CMD: ..."), the device and the problem.
 */
#ifndef LIMPID_CLI_PA_UTIL_H
#define LIMPID_CLI_PA_UTIL_H

#include <portaudio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Pa_Initialize, with what the audio back-ends print while probing (ALSA's "cannot find card
 * '0'", JACK's "server is not running" when there is no such card or server) kept out of
 * the terminal; it is shown when PortAudio fails to start, or always with the environment
 * variable LIMPID_PA_VERBOSE=1. 0, or -1 with a message printed. Pair with pa_done. */
int pa_init(const char *cmd);
void pa_done(void);

/* The device for spec (see the top) in one direction (is_input 1: capture, 0: playback).
 * The device index, or paNoDevice with a sentence in err. */
PaDeviceIndex pa_find_device(const char *spec, int is_input, char *err, size_t errlen);

/* "#3 'name' (Host API)" for messages. */
void pa_device_label(PaDeviceIndex d, char *buf, size_t len);

/* Print every device: index, input and output channels, default rate, host API, name, and
 * which are the defaults. */
void pa_list_devices(FILE *f);

/* PortAudio's error text for err, with the host API's own text when PortAudio has one. */
const char *pa_error_text(PaError err, char *buf, size_t len);

/* ---- playback ------------------------------------------------------------------------ */

/* The source of a player: fill buf with up to `frames` interleaved frames (the channels and
 * rate of pa_play_opts). Returns the number of frames written, 0 at the end, -1 on an error
 * (the reader prints its own message). Called from the main thread, never from the audio
 * callback: it may read files and allocate. */
typedef long (*pa_play_read_fn)(void *user, float *buf, long frames);

typedef struct pa_play_opts {
    const char *cmd;     /* command name, for messages ("play") */
    const char *device;  /* output device spec (see the top); NULL: the default output */
    const char *label;   /* what plays, for the messages and progress line (a file name) */
    int rate;            /* source rate, Hz */
    int channels;        /* source channels (>= 1) */
    int64_t frames;      /* source length in frames, for the progress line; <= 0: unknown */
    double max_seconds;  /* stop after this much of the source; <= 0: play it all */
    int quiet;           /* no information or progress lines */
} pa_play_opts;

/* Play a source through PortAudio until it ends, max_seconds pass, or cli_stop_signal is set
 * (Ctrl-C, SIGTERM). Calls pa_init/pa_done itself (PortAudio counts initialisations, so a
 * caller may hold its own).
 *
 * Output channels: a mono source goes to two channels when the device has two (one when it
 * has one); a source with more channels than the device is mixed to mono for a one-channel
 * device, else its first channels are played (with a warning). Rate: the source's when the
 * device accepts it, else the device's default rate, converted with libsamplerate
 * (SRC_SINC_MEDIUM_QUALITY) in the main thread.
 *
 * The source is read ahead into a lock-free ring of about half a second, which the audio
 * callback empties: the callback only copies floats (no allocation, lock, I/O or logging).
 * Progress ("played/total" seconds) updates on stderr when it is a terminal.
 * Returns a CLI exit status: 0 played, 1 error (message printed), 130 stopped by a signal. */
int pa_play(const pa_play_opts *o, pa_play_read_fn read, void *user);

/* pa_play of n interleaved frames held in memory (o->channels channels at o->rate). */
int pa_play_frames(const pa_play_opts *o, const float *frames, int64_t n);

#endif
