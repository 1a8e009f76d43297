package dev.jlens.models.hub;

import dev.jlens.engine.JlensException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The model organisms that ship with jlens, in {@code organisms/NAME} of the jlens checkout.
 */
public final class ShippedModels {
    public static final String GPT2 = "gpt2-organism", NEOX = "neox-organism", SOLU = "solu-organism", LLAMA = "llama-organism";
    public static final String DEFAULT = GPT2;
    public static final List<String> NAMES = List.of(GPT2, NEOX, SOLU, LLAMA);

    private ShippedModels() {}

    /** The directory of the shipped model {@code name}. */
    public static Path resolve(String name) {
        if (!NAMES.contains(name)) throw new JlensException("no model named " + name + " ships with jlens (shipped: " + String.join(", ", NAMES) + ").");
        Path shipped = home().resolve("organisms").resolve(name);
        if (Files.isDirectory(shipped)) return shipped;
        throw new JlensException("the shipped model " + name + " is missing from " + shipped + " (remake it with: jlens train --recipe "
                + name + " --out " + shipped + ").");
    }

    /** The jlens checkout: the {@code jlens.home} property (the launcher and the tests set it), else found from this class's location. */
    public static Path home() {
        String property = System.getProperty("jlens.home");
        if (property != null) return Path.of(property);
        try {
            Path p = Path.of(ShippedModels.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (; p != null; p = p.getParent()) if (Files.isDirectory(p.resolve("organisms"))) return p;
        } catch (URISyntaxException | SecurityException e) {
            // fall through to the error below
        }
        throw new JlensException("cannot find the jlens checkout that holds organisms/; set -Djlens.home.");
    }
}
