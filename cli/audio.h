/* audio.h - audio file access for the CLI: libsndfile (any format/rate it reads), mono
 * mixdown, resampling with libsamplerate (SRC_SINC_MEDIUM_QUALITY), and random access to a
 * crop of a file at a target rate so a corpus larger than memory works.
 *
 * Mono mixdown is the mean of the channels. Resampling is deterministic: the same file,
 * target rate, offset and length always give the same samples. A file of F frames at rate R
 * has audio_frames_at_rate(F, R, T) = floor(F*T/R) frames at rate T.
 *
 * Every function returns 0 on success, -1 on failure with a sentence in err that names the
 * file and libsndfile's or libsamplerate's reason. NaN and infinite samples read as 0.
 */
#ifndef LIMPID_CLI_AUDIO_H
#define LIMPID_CLI_AUDIO_H

#include <stddef.h>
#include <stdint.h>

typedef struct audio_info {
    int64_t frames; /* at the file's own rate */
    int rate;       /* Hz */
    int channels;
    int format;     /* libsndfile SF_FORMAT_* */
} audio_info;

/* What limpid reads: a header outside these is refused as lying (it would make the
 * resamplers allocate without bound). */
#define AUDIO_MIN_RATE 1000
#define AUDIO_MAX_RATE 768000
#define AUDIO_MAX_CHANNELS 256

/* Open the file's header only (and check it against the limits above). */
int audio_probe(const char *path, audio_info *info, char *err, size_t errlen);

/* 0 when rate and channels are within the limits; else -1 with the reason in why. */
int audio_check_format(int rate, int channels, char *why, size_t len);

/* Whether the file holds all the audio its header announces: a WAV, RF64, AIFF, W64 or CAF
 * whose audio chunk claims more bytes than the file has (in a WAV the sizes 0 and 0xFFFFFFFF
 * of streaming writers mean "unknown" and pass, as do a W64 data size of 0 and a CAF data
 * size of -1, "to the end of the file"), or a file whose last frame cannot be read (a cut
 * FLAC), gives -1 with the reason in why ("... (truncated?)"). libsndfile alone would read
 * such a file as a shorter one. Costs an open, a seek and one frame. */
int audio_check_complete(const char *path, char *why, size_t len);

/* Why sf_open(path) failed, for a message: "it is a folder...", "the file is empty...", an
 * absurd WAV format chunk, an audio chunk that claims more than the file holds (libsndfile
 * refuses some cut CAF files as merely "malformed"), or libsndfile's reason. */
void audio_open_failure(const char *path, char *why, size_t len);

/* Frames of a file of `frames` frames at src_rate, expressed at dst_rate (floor). */
int64_t audio_frames_at_rate(int64_t frames, int src_rate, int dst_rate);

/* Whole file as mono at target_rate (target_rate <= 0: the file's rate). *out is malloc'd
 * (free() it), *n its length; *rate_out (optional) gets the rate of *out. A file that holds
 * less than its header announces is refused (see audio_check_complete). */
int audio_read_mono(const char *path, int target_rate, float **out, size_t *n, int *rate_out,
                    char *err, size_t errlen);

/* Samples [offset, offset+len) of the file's mono signal at target_rate into out[len].
 * Positions past the end (or before 0) read as zeros. Reads only about the needed part of
 * the file (seek + margin for the resampling filter); matches audio_read_mono to within the
 * resampler's numerical noise (identical when the rates are equal). */
int audio_read_crop(const char *path, int target_rate, int64_t offset, size_t len, float *out,
                    char *err, size_t errlen);

/* Resample a mono buffer (deterministic). *out is malloc'd with *n_out samples
 * (= floor(n * dst / src), zero-padded if the converter gives fewer). */
int audio_resample(const float *in, size_t n, int src_rate, int dst_rate, float **out,
                   size_t *n_out, char *err, size_t errlen);

/* Write mono float samples. The container follows the extension (.wav .flac .aiff/.aif .ogg
 * .caf .au .w64; otherwise WAV); samples are 24-bit PCM (Vorbis for .ogg), or 32-bit float
 * when use_float != 0 and the format allows it. Values are clipped to [-1, 1] when
 * converted to integers. Not atomic. */
int audio_write_mono(const char *path, const float *x, size_t n, int rate, int use_float,
                     char *err, size_t errlen);

#endif
