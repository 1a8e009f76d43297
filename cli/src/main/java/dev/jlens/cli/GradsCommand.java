package dev.jlens.cli;

import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.io.Outputs;
import dev.jlens.engine.safetensors.SafetensorsWriter;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.loading.LoadedModel;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code jlens grads}: the mean next-token loss and the gradient of every parameter. */
@Command(name = "grads", mixinStandardHelpOptions = true,
        description = "One forward and backward of the mean next-token cross-entropy; writes loss and every parameter's gradient.")
final class GradsCommand implements Callable<Integer> {
    @Mixin ModelOption modelOption;
    @Mixin InputOption input;
    @Option(names = "--out", required = true, paramLabel = "FILE", description = "safetensors file to write") Path out;
    @Option(names = "--overwrite", description = "replace --out if it exists") boolean overwrite;

    @Override
    public Integer call() {
        Outputs.checkFile(out, overwrite, "--out");
        LoadedModel loaded = modelOption.load();
        HookedTransformer model = loaded.model();
        float loss = model.lossAndBackward(input.tokens(loaded));
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("loss", Tensor.of(new float[] {loss}, 1));
        for (Parameter p : model.parameters().values()) tensors.put(p.name(), p.grad());
        SafetensorsWriter.write(out, tensors, Map.of("model", modelOption.name()), overwrite);
        System.out.printf("loss %.6f; wrote the gradients of %d parameters to %s%n", loss, model.parameters().size(), out);
        return 0;
    }
}
