package dev.jlens.cli;

import dev.jlens.analysis.sae.Sae;
import dev.jlens.analysis.sae.SaeFiles;
import dev.jlens.analysis.sae.SaeReleases;
import dev.jlens.engine.JlensException;
import dev.jlens.models.hub.HubSettings;
import dev.jlens.models.hub.ShippedModels;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --sae S}: a directory in SAELens's layout, or an SAELens release and SAE id fetched through the hub; {@code --hook} places it. */
final class SaeOption {
    @Option(names = "--sae", required = true, paramLabel = "S",
            description = "an SAE: a directory in SAELens's layout (cfg.json + sae_weights.safetensors); a Gemma Scope params.npz (with --hook); ORGANISM/HOOK for one that ships with jlens "
                    + "(neox-organism/blocks.1.hook_resid_post, gpt2-organism/blocks.1.hook_resid_pre); or RELEASE/ID as SAELens names it "
                    + "(e.g. gpt2-small-res-jb/blocks.8.hook_resid_pre), fetched through the Hugging Face cache")
    String sae;

    @Option(names = "--hook", paramLabel = "NAME", description = "the hook point to splice the SAE at (default: the one its cfg.json names)")
    String hook;

    /** The SAE, placed at --hook when given. */
    Sae load() {
        Sae loaded = resolve(sae, "--sae");
        if (hook != null) return loaded.atHook(hook);
        if (loaded.cfg().hookName() == null) throw new JlensException("--sae " + sae + " names no hook point; give one with --hook.");
        return loaded;
    }

    /**
     * An SAE named as {@code --sae} takes it: a directory; a Gemma Scope {@code .npz}; SHIPPED/HOOK for an SAE that ships with
     * jlens beside its organism ({@code organisms/SHIPPED/saes/HOOK}); or RELEASE/ID of SAELens.
     */
    static Sae resolve(String spec, String flag) {
        if (spec.isBlank()) throw new JlensException(flag + " is empty; name an SAE directory or an SAELens release/id.");
        Path dir = Path.of(spec);
        if (Files.isDirectory(dir)) return SaeFiles.load(dir);
        if (Files.isRegularFile(dir) && spec.endsWith(".npz")) return SaeFiles.loadNpz(dir);
        int slash = spec.indexOf('/');
        String release = slash < 0 ? spec : spec.substring(0, slash);
        if (slash > 0 && ShippedModels.NAMES.contains(release)) {
            Path shipped = ShippedModels.resolve(release).resolve("saes").resolve(spec.substring(slash + 1));
            if (!Files.isDirectory(shipped)) {
                throw new JlensException(flag + " '" + spec + "': no SAE at " + spec.substring(slash + 1) + " ships with " + release + " (shipped: "
                        + String.join(", ", shippedSaes(release)) + ").");
            }
            return SaeFiles.load(shipped);
        }
        if (slash < 0 && SaeReleases.releases().contains(release)) {
            throw new JlensException(flag + " '" + spec + "' names a release but no SAE in it; give RELEASE/ID, such as " + release + "/"
                    + SaeReleases.ids(release).getFirst() + ".");
        }
        if (slash < 0 || !SaeReleases.releases().contains(release)) {
            throw new JlensException(flag + " '" + spec + "' is neither a directory holding an SAE nor RELEASE/ID of an SAELens release jlens knows ("
                    + String.join(", ", SaeReleases.releases()) + ").");
        }
        try (DownloadProgress progress = new DownloadProgress()) {
            return SaeReleases.load(release, spec.substring(slash + 1), HubSettings.fromEnvironment(), progress);
        }
    }

    private static java.util.List<String> shippedSaes(String model) {
        try (var dirs = Files.list(ShippedModels.resolve(model).resolve("saes"))) {
            return dirs.map(p -> model + "/" + p.getFileName()).sorted().toList();
        } catch (java.io.IOException e) {
            return java.util.List.of();
        }
    }
}
