package dev.jlens.experiments.organisms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.Tensor;
import dev.jlens.experiments.report.Prompts;
import dev.jlens.experiments.report.Report;
import dev.jlens.models.Tokens;
import dev.jlens.models.WeightProcessing;
import dev.jlens.models.hub.ShippedModels;
import dev.jlens.models.loading.LoadedModel;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The shipped organisms as the experiments load them, and checks on what a report wrote. */
public final class Shipped {
    private Shipped() {}

    public static LoadedModel load(String name, String process) {
        return LoadedModel.load(ShippedModels.resolve(name), WeightProcessing.Options.parse(process));
    }

    public static Report quietReport(Path dir) {
        return new Report("test", dir, new PrintStream(OutputStream.nullOutputStream()));
    }

    /** index.html shows every PNG in the directory and links every SVG, and names no figure that is not there. */
    public static void assertIndexShowsEveryFigure(Path dir, int atLeast) throws IOException {
        String html = Files.readString(dir.resolve("index.html"));
        Set<String> pngs = new TreeSet<>(), svgs = new TreeSet<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.map(p -> p.getFileName().toString()).forEach(f -> {
                if (f.endsWith(".png")) pngs.add(f);
                if (f.endsWith(".svg")) svgs.add(f);
            });
        }
        assertTrue(pngs.size() >= atLeast, "figures written: " + pngs);
        Set<String> shown = new TreeSet<>(), linked = new TreeSet<>();
        Matcher img = Pattern.compile("<img src=\"([^\"]+)\"").matcher(html);
        while (img.find()) shown.add(img.group(1));
        Matcher a = Pattern.compile("<a href=\"([^\"]+\\.svg)\"").matcher(html);
        while (a.find()) linked.add(a.group(1));
        assertEquals(pngs, shown);
        assertEquals(svgs, linked);
        for (String png : pngs) assertTrue(Files.size(dir.resolve(png)) > 1000, png + " is not empty");
    }

    /** The token a shipped model ranks first after {@code prompt} (BOS prepended). */
    public static int topToken(LoadedModel loaded, String prompt) {
        Tokens t = Prompts.batch(loaded, List.of(prompt));
        Tensor logits = loaded.model().forward(t);
        int vocab = logits.dim(2), last = t.pos() - 1, best = 0;
        for (int v = 1; v < vocab; v++) if (logits.get(0, last, v) > logits.get(0, last, best)) best = v;
        return best;
    }
}
