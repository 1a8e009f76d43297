package dev.jlens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.safetensors.SafetensorsFile;
import dev.jlens.experiments.gradientattribution.GradientAttribution;
import dev.jlens.experiments.organisms.Shipped;
import dev.jlens.experiments.report.Report;
import dev.jlens.models.hub.ShippedModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Notebook 000 on the shipped GPT-2 organism, its table checked against `jlens grads`. */
class GradientAttributionCommandTest {
    @TempDir
    Path dir;

    @Test
    void theTopChangeEqualsTheNormOfTheDifferenceOfTwoJlensGradsRunsAndFewNeuronsCarryTheChanges() throws Exception {
        Path out = dir.resolve("report");
        Report report = Shipped.quietReport(out);
        GradientAttribution.Result result = GradientAttribution.run(Shipped.load(ShippedModels.GPT2, "default"),
                GradientAttribution.Options.DEFAULTS, report);
        report.finish();
        Shipped.assertIndexShowsEveryFigure(out, 12);

        JsonNode top = new ObjectMapper().readTree(Files.readString(out.resolve("top_neurons_paris.json"))).get("rows").get(0);
        String base = top.get("Base").asText(), given = top.get("Given Answer").asText(), matrix = top.get("Matrix").asText();
        int layer = top.get("Layer").asInt(), neuron = top.get("Neuron").asInt();
        String name = "blocks." + layer + ".mlp." + matrix;
        Tensor wrong = grads(base + " " + given + ".", name), right = grads(base + " Paris.", name);
        int dModel = 128, dMlp = 512;
        double sq = 0;
        for (int i = 0; i < dModel; i++) {
            int at = matrix.equals("W_in") ? i * dMlp + neuron : neuron * dModel + i;
            double d = (double) wrong.data()[at] - right.data()[at];
            sq += d * d;
        }
        assertEquals(Math.sqrt(sq), top.get("Magnitude").asDouble(), 1e-5 * Math.sqrt(sq));

        // As in the notebook, a few neurons carry the largest changes, across many of the prompts.
        JsonNode rows = new ObjectMapper().readTree(Files.readString(out.resolve("top_neurons_paris.json"))).get("rows");
        Set<String> neurons = new HashSet<>();
        for (JsonNode r : rows) neurons.add("L" + r.get("Layer").asInt() + "N" + r.get("Neuron").asInt());
        assertTrue(neurons.size() <= 12, "the top 20 changes away from Paris fall on " + neurons.size() + " neurons: " + neurons);
        JsonNode first = new ObjectMapper().readTree(Files.readString(out.resolve("changes_" + result.capitalNeurons().get(0) + ".json"))).get("rows");
        Set<String> bases = new HashSet<>();
        for (JsonNode r : first) bases.add(r.get("Base").asText());
        assertTrue(bases.size() >= 8, result.capitalNeurons().get(0) + " changes most on " + bases.size() + " different bases: " + bases);
    }

    private Tensor grads(String prompt, String tensor) throws Exception {
        Path file = dir.resolve("grads-" + Integer.toHexString(prompt.hashCode()) + ".safetensors");
        CommandLineRun run = CommandLineRun.of("grads", "--model", ShippedModels.GPT2, "--prompt", prompt, "--out", file.toString());
        assertEquals(0, run.exitCode(), run.err());
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            return f.read(tensor, null);
        }
    }
}
