package dev.jlens.cli;

import java.lang.management.ManagementFactory;
import java.util.Locale;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine;

/**
 * The one sentence for a run that filled the Java heap: what ran out, roughly what the work needs,
 * and how to give it more. By the time it is written the work's arrays are unreachable, so there is
 * room to write it.
 */
final class OutOfMemory {
    private OutOfMemory() {}

    static String sentence(CommandLine cli) {
        long heap = Runtime.getRuntime().maxMemory(), machine = physicalMemory();
        long weights = weightBytes(cli);
        StringBuilder s = new StringBuilder("ran out of memory: the Java heap's ").append(gb(heap)).append(" are full");
        // Weights, their processing and a pass's activations: about twice the weights for the notebooks at their sizes,
        // and more than the heap that just filled in any case.
        long needed = Math.max(2 * weights, heap + heap / 2);
        if (weights > 0) s.append("; the model's weights alone take ").append(gb(weights)).append(" as float32");
        s.append(", and the work needs roughly ").append(gb(needed));
        long suggested = Math.max(needed, 1L << 30);
        s.append(". Give it more with JLENS_JAVA_OPTS=-Xmx").append(Math.ceilDiv(suggested, 1L << 30)).append('g');
        if (machine > 0) s.append(" (this machine has ").append(gb(machine)).append(')');
        return s.append(", or ask for less: a smaller --batch, or a smaller model.").toString();
    }

    /** The float32 weight bytes of the model the failed command was loading or running, or 0. */
    private static long weightBytes(CommandLine cli) {
        ParseResult result = cli.getParseResult();
        while (result != null && result.subcommand() != null) result = result.subcommand();
        if (result == null) return 0;
        for (CommandSpec mixin : result.commandSpec().mixins().values()) {
            if (!(mixin.userObject() instanceof ModelOption option)) continue;
            try {
                return option.float32WeightBytes();
            } catch (RuntimeException unreadable) {
                return 0;
            }
        }
        return 0;
    }

    private static long physicalMemory() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) return os.getTotalMemorySize();
        return 0;
    }

    private static String gb(long bytes) {
        return bytes < 1e9 ? String.format(Locale.ROOT, "%.0f MB", bytes / 1e6) : String.format(Locale.ROOT, "%.1f GB", bytes / 1e9);
    }
}
