package dev.jlens.fuzz;

import dev.jlens.engine.Tensor;
import dev.jlens.engine.checkpoint.TorchCheckpointWriter;
import dev.jlens.engine.safetensors.SafetensorsWriter;
import dev.jlens.models.Config;
import dev.jlens.models.ModelFamily;
import dev.jlens.models.RandomWeights;
import dev.jlens.models.components.Activation;
import dev.jlens.models.loading.ModelExport;
import dev.jlens.models.tokenizer.BpeTrainer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Writes the fuzz targets' seed corpora (the {@code *Inputs} folders under
 * {@code fuzz/src/test/resources}): small valid files of every format jlens reads, made by jlens's
 * own writers, so the fuzzer starts from inputs that reach deep into each parser. Run from the
 * repository root after changing a writer:
 * {@code java -cp ... dev.jlens.fuzz.SeedCorpus fuzz/src/test/resources}.
 */
public final class SeedCorpus {
    private SeedCorpus() {}

    public static void main(String[] args) throws IOException {
        Path resources = Path.of(args[0]);
        Path fuzz = resources.resolve("dev/jlens/fuzz"), checkpoint = resources.resolve("dev/jlens/engine/checkpoint");
        Path scratch = Files.createTempDirectory("jlens-seeds");

        Config gpt2 = Config.builder().family(ModelFamily.GPT2).nLayers(1).dModel(4).nHeads(2).dMlp(8).dVocab(11).nCtx(6)
                .actFn(Activation.GELU_NEW).bosToken(10).build();
        Config neox = gpt2.toBuilder().family(ModelFamily.GPT_NEOX).actFn(Activation.GELU).rotary(2).parallelAttnMlp(true).build();
        Config llamaLike = gpt2.toBuilder().family(ModelFamily.HOOKED_TRANSFORMER).nHeads(2).nKeyValueHeads(1).normalization(Config.Normalization.RMS)
                .actFn(Activation.SILU).gatedMlp(true).rotary(2).build();
        Map<String, Tensor> weights = RandomWeights.of(gpt2, 1, 0.5);

        // safetensors: a Hugging Face GPT-2 export, and one tensor each of F16 and BF16 by hand.
        Path hf = scratch.resolve("gpt2");
        ModelExport.write(hf, gpt2, weights);
        copy(hf.resolve("model.safetensors"), fuzz.resolve("SafetensorsFuzzTestInputs/header/gpt2-micro"));
        write(fuzz.resolve("SafetensorsFuzzTestInputs/header/half-precision"), halfPrecisionSafetensors());
        Path small = scratch.resolve("small.safetensors");
        SafetensorsWriter.write(small, Map.of("a", Tensor.of(new float[] {1, -2, 3, 0.5f}, 2, 2)), Map.of("format", "pt"));
        copy(small, fuzz.resolve("SafetensorsFuzzTestInputs/header/one-tensor"));

        // config.json: each reader's layout.
        copy(hf.resolve("config.json"), fuzz.resolve("ConfigFuzzTestInputs/config/gpt2"));
        Path neoxDir = scratch.resolve("neox");
        ModelExport.write(neoxDir, neox, RandomWeights.of(neox, 2, 0.5));
        copy(neoxDir.resolve("config.json"), fuzz.resolve("ConfigFuzzTestInputs/config/gpt-neox"));
        Path tl = scratch.resolve("tl");
        ModelExport.write(tl, llamaLike, RandomWeights.of(llamaLike, 3, 0.5));
        copy(tl.resolve("config.json"), fuzz.resolve("ConfigFuzzTestInputs/config/transformerlens-gated-rms-gqa"));

        // tokenizers: a byte-level BPE of 300 tokens, as tokenizer.json and as vocab.json + NUL + merges.txt.
        BpeTrainer.Vocabulary bpe = BpeTrainer.Vocabulary.gpt2Merges(300);
        write(fuzz.resolve("TokenizerFuzzTestInputs/tokenizerJson/bpe-300"), bpe.toJson().getBytes(StandardCharsets.UTF_8));
        write(fuzz.resolve("TokenizerFuzzTestInputs/vocabAndMerges/bpe-300"), vocabAndMerges(bpe));

        // PyTorch: a torch.save-layout zip of the GPT-2 weights, and its data.pkl alone.
        Path pth = scratch.resolve("model.pth");
        TorchCheckpointWriter.write(pth, RandomWeights.of(gpt2, 4, 0.5));
        copy(pth, checkpoint.resolve("TorchCheckpointFuzzTestInputs/zip/gpt2-micro"));
        try (ZipFile zip = new ZipFile(pth.toFile())) {
            ZipEntry pickle = zip.stream().filter(e -> e.getName().endsWith("data.pkl")).findFirst().orElseThrow();
            try (InputStream in = zip.getInputStream(pickle)) {
                write(checkpoint.resolve("TorchCheckpointFuzzTestInputs/pickle/gpt2-micro"), in.readAllBytes());
            }
        }
    }

    private static byte[] halfPrecisionSafetensors() {
        String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[4,8]}}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + json.length + 8).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(json.length).put(json);
        out.putShort(Float.floatToFloat16(1.5f)).putShort(Float.floatToFloat16(-2f));
        out.putShort((short) (Float.floatToIntBits(0.25f) >>> 16)).putShort((short) (Float.floatToIntBits(3f) >>> 16));
        return out.array();
    }

    private static byte[] vocabAndMerges(BpeTrainer.Vocabulary bpe) {
        StringBuilder vocab = new StringBuilder("{");
        List<String> tokens = bpe.tokens();
        for (int id = 0; id < tokens.size(); id++) {
            if (id > 0) vocab.append(',');
            vocab.append('"').append(tokens.get(id).replace("\\", "\\\\").replace("\"", "\\\"")).append("\":").append(id);
        }
        vocab.append('}');
        List<String> lines = new ArrayList<>(List.of("#version: 0.2"));
        for (String[] m : bpe.merges()) lines.add(m[0] + " " + m[1]);
        byte[] v = vocab.toString().getBytes(StandardCharsets.UTF_8), m = (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[v.length + 1 + m.length];
        System.arraycopy(v, 0, out, 0, v.length);
        System.arraycopy(m, 0, out, v.length + 1, m.length);
        return out;
    }

    private static void copy(Path from, Path to) throws IOException {
        write(to, Files.readAllBytes(from));
    }

    private static void write(Path to, byte[] bytes) throws IOException {
        Files.createDirectories(to.getParent());
        Files.write(to, bytes);
    }
}
