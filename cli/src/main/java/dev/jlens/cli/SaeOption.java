package dev.jlens.cli;

import dev.jlens.analysis.sae.Sae;
import dev.jlens.analysis.sae.SaeFiles;
import dev.jlens.analysis.sae.SaeReleases;
import dev.jlens.engine.JlensException;
import dev.jlens.models.hub.HubSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --sae S}: a directory in SAELens's layout, or an SAELens release and SAE id fetched through the hub; {@code --hook} places it. */
final class SaeOption {
    @Option(names = "--sae", required = true, paramLabel = "S",
            description = "an SAE: a directory in SAELens's layout (cfg.json + sae_weights.safetensors), or RELEASE/ID as SAELens names it "
                    + "(e.g. gpt2-small-res-jb/blocks.8.hook_resid_pre), fetched through the Hugging Face cache")
    String sae;

    @Option(names = "--hook", paramLabel = "NAME", description = "the hook point to splice the SAE at (default: the one its cfg.json names)")
    String hook;

    /** The SAE, placed at --hook when given. */
    Sae load() {
        if (sae.isBlank()) throw new JlensException("--sae is empty; name an SAE directory or an SAELens release/id.");
        Path dir = Path.of(sae);
        Sae loaded;
        if (Files.isDirectory(dir)) loaded = SaeFiles.load(dir);
        else {
            int slash = sae.indexOf('/');
            String release = slash < 0 ? sae : sae.substring(0, slash);
            if (slash < 0 && SaeReleases.releases().contains(release)) {
                throw new JlensException("--sae '" + sae + "' names a release but no SAE in it; give RELEASE/ID, such as " + release + "/"
                        + SaeReleases.ids(release).getFirst() + ".");
            }
            if (slash < 0 || !SaeReleases.releases().contains(release)) {
                throw new JlensException("--sae '" + sae + "' is neither a directory holding an SAE nor RELEASE/ID of an SAELens release jlens knows ("
                        + String.join(", ", SaeReleases.releases()) + ").");
            }
            try (DownloadProgress progress = new DownloadProgress()) {
                loaded = SaeReleases.load(release, sae.substring(slash + 1), HubSettings.fromEnvironment(), progress);
            }
        }
        if (hook != null) return loaded.atHook(hook);
        if (loaded.cfg().hookName() == null) throw new JlensException("--sae " + sae + " names no hook point; give one with --hook.");
        return loaded;
    }
}
