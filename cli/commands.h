/* commands.h - the table of limpid commands (an X-macro list).
 *
 * One line per command: LIMPID_CMD(name, summary). The command is implemented as
 *     int cmd_<name>(int argc, char **argv);
 * in cli/cmd_<name>.c, where argv[0] is the command name and the return value is the exit
 * status. To add a command: write cli/cmd_NAME.c and add its line here (in the order
 * `limpid --help` should list it). main.c and cli.h pick it up from this list.
 */
LIMPID_CMD(train, "train a denoising or texture model on folders of audio")
LIMPID_CMD(info, "describe a model file or checkpoint: architecture, cost, latency, provenance")
LIMPID_CMD(export, "write a model file from a training checkpoint (a training still running)")
LIMPID_CMD(denoise, "denoise audio files or folders with a model (streams long files)")
LIMPID_CMD(live, "denoise a microphone into an output device in real time (PortAudio)")
LIMPID_CMD(generate, "generate audio textures (rain, wind, stream, fire...) of any length")
LIMPID_CMD(eval, "score enhanced audio against clean references: SNR, SI-SDR, STOI, ESTOI")
LIMPID_CMD(play, "play an audio file through PortAudio")
