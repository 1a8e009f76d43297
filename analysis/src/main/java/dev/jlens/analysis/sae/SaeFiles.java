package dev.jlens.analysis.sae;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.checkpoint.Npz;
import dev.jlens.engine.io.Json;
import dev.jlens.engine.io.Outputs;
import dev.jlens.engine.safetensors.SafetensorsFile;
import dev.jlens.engine.safetensors.SafetensorsWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** SAELens's directory layout: {@code cfg.json} and {@code sae_weights.safetensors} (float32 or 16-bit, read as float32). */
public final class SaeFiles {
    public static final String CONFIG = "cfg.json", WEIGHTS = "sae_weights.safetensors", SPARSITY = "sparsity.safetensors";
    /** The files an SAE directory holds: what a command checks its --out for before the work. */
    public static final List<String> FILES = List.of(CONFIG, WEIGHTS);

    private SaeFiles() {}

    /** The SAE in {@code dir}; what is missing or malformed is refused in one sentence naming the file and field. */
    public static Sae load(Path dir) {
        if (!Files.isDirectory(dir)) throw new JlensException(dir + ": is not a directory holding an SAE (cfg.json and sae_weights.safetensors).");
        Path cfgFile = dir.resolve(CONFIG), weights = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(cfgFile)) throw new JlensException(dir + ": has no " + CONFIG + ", so it is not an SAE in SAELens's layout.");
        if (!Files.isRegularFile(weights)) throw new JlensException(dir + ": has no " + WEIGHTS + ", so it is not an SAE in SAELens's layout.");
        SaeConfig cfg = SaeConfig.parse(Json.read(cfgFile), cfgFile);
        Map<String, Tensor> state = new LinkedHashMap<>();
        try (SafetensorsFile file = SafetensorsFile.open(weights)) {
            List<String> extra = Sae.unexpected(cfg, file.names());
            if (!extra.isEmpty()) {
                throw new JlensException(weights + ": holds " + String.join(", ", extra) + ", which a " + cfg.architecture().saeLensName() + " SAE does not have.");
            }
            for (String name : file.names()) state.put(name, file.read(name, null));
        }
        return Sae.of(cfg, state, weights);
    }

    /**
     * A Gemma Scope SAE from its release's own {@code params.npz} (W_enc, W_dec, b_enc, b_dec,
     * threshold; SAELens's loader also accepts "w_" for "W_"): JumpReLU, with b_dec not subtracted
     * from the input. An npz names no hook: the caller places it ({@link Sae#atHook}).
     */
    public static Sae loadNpz(Path file) {
        Map<String, Tensor> state = new LinkedHashMap<>();
        Npz.read(file).forEach((name, t) -> state.put(name.startsWith("w_") ? "W_" + name.substring(2) : name, t));
        Tensor wEnc = state.get("W_enc");
        if (wEnc == null || wEnc.rank() != 2) throw new JlensException(file + ": has no 2-dimensional array 'W_enc', so it is not a Gemma Scope SAE.");
        SaeConfig cfg = new SaeConfig(SaeArchitecture.JUMPRELU, wEnc.dim(0), wEnc.dim(1), 0, false, SaeConfig.Normalization.NONE, null, null, false);
        List<String> extra = Sae.unexpected(cfg, state.keySet());
        if (!extra.isEmpty()) throw new JlensException(file + ": holds " + String.join(", ", extra) + ", which a Gemma Scope (JumpReLU) SAE does not have.");
        return Sae.of(cfg, state, file);
    }

    /** Writes the SAE in SAELens's layout into {@code dir} (created, or replacing namesakes when {@code replace}); whole or not at all. */
    public static void write(Sae sae, Path dir, boolean replace) {
        Outputs.writeDirectory(dir, replace, staging -> writeInto(sae, staging));
    }

    /** The SAE's two files, into a directory being filled (a command's staging directory, published whole). */
    public static void writeInto(Sae sae, Path staging) throws java.io.IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Parameter p : sae.parameters().values()) tensors.put(p.name(), p.value());
        SafetensorsWriter.write(staging.resolve(WEIGHTS), tensors, Map.of());
        Files.writeString(staging.resolve(CONFIG), MAPPER.writeValueAsString(sae.cfg().toJson()));
    }

    /** SAELens's sparsity.safetensors beside the weights: "sparsity", log10 of each feature's firing density (−10 for a dead one). */
    public static void writeSparsity(float[] density, Path staging) {
        float[] log = new float[density.length];
        for (int i = 0; i < log.length; i++) log[i] = density[i] > 0 ? (float) Math.log10(density[i]) : -10f;
        SafetensorsWriter.write(staging.resolve(SPARSITY), Map.of("sparsity", Tensor.of(log, log.length)), Map.of());
    }

    private static final JsonMapper MAPPER = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
}
