package dev.jlens.cli;

import picocli.CommandLine.Command;

/** {@code jlens sae ...}: sparse autoencoders spliced into the model. */
@Command(name = "sae", mixinStandardHelpOptions = true, description = "Sparse autoencoders: encode, train, feature dashboards.",
        subcommands = {SaeEncodeCommand.class, SaeTrainCommand.class, SaeFeaturesCommand.class})
final class SaeCommand {
}
