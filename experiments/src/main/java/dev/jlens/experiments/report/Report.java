package dev.jlens.experiments.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jlens.analysis.Progress;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.io.Outputs;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;

/**
 * What an experiment shows, in the order it shows it: notes, printed blocks, tables and figures.
 * Tables go to the terminal and to {@code DIR/name.csv} and {@code DIR/name.json}; figures to
 * {@code DIR/name.png} and {@code DIR/name.svg}; {@link #finish} writes {@code DIR/index.html}, which
 * shows them all and needs nothing but the files beside it. Everything is written to a hidden
 * directory beside DIR first and becomes DIR only when the report is finished, so a run that fails
 * half-way leaves nothing behind (and an earlier report in DIR stays as it was until then).
 */
public final class Report implements AutoCloseable {
    private sealed interface Item permits Note, Block, TableItem, FigureItem, ViewItem {}
    private record Note(String text) implements Item {}
    private record Block(String heading, String text) implements Item {}
    private record TableItem(Table table) implements Item {}
    private record FigureItem(Figure figure) implements Item {}
    private record ViewItem(String title, View view) implements Item {}

    private final String title;
    private final Path target, dir;
    private final PrintStream out;
    private final Progress progress;
    private final List<Item> items = new ArrayList<>();
    private final java.util.Map<String, Long> counts = new java.util.LinkedHashMap<>();
    private boolean finished, warnedNoFonts;

    /** A count about the run for report.json (not shown): the model passes an experiment made, say. */
    public void count(String what, long n) {
        counts.put(what, n);
    }

    /** Where long loops report how far they have come. */
    public Progress progress() {
        return progress;
    }

    /** Whether Java finds a font to draw text with: a server with no fonts installed cannot draw charts. */
    private static final boolean FONTS_FOUND = fontsFound();

    private static boolean fontsFound() {
        try {
            var image = new java.awt.image.BufferedImage(1, 1, java.awt.image.BufferedImage.TYPE_INT_RGB);
            return image.createGraphics().getFontMetrics(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 12)).getHeight() > 0;
        } catch (RuntimeException | Error noFontConfiguration) {
            // Java reports a missing font configuration as a NullPointerException or an Error from deep in AWT.
            return false;
        }
    }

    /** A report that shows no progress. */
    public Report(String title, Path target, PrintStream out) {
        this(title, target, out, Progress.NONE);
    }

    /** @param progress where the experiment's long loops say how far they have come */
    public Report(String title, Path target, PrintStream out, Progress progress) {
        this.title = title;
        this.progress = progress;
        this.target = target.toAbsolutePath().normalize();
        this.out = out;
        if (Files.exists(this.target, LinkOption.NOFOLLOW_LINKS) && !isReplaceable(this.target)) {
            throw new JlensException("--out " + target + ": exists and holds more than a jlens report; choose another directory "
                    + "(jlens replaces only an empty directory or one of its own reports).");
        }
        try {
            Files.createDirectories(this.target.getParent());
            this.dir = Outputs.temporaryDirectoryBeside(this.target);
        } catch (IOException e) {
            throw new JlensException("--out " + target + ": cannot be written (" + JlensException.describe(e) + ").", e);
        }
    }

    /**
     * An empty directory, or an earlier jlens report and nothing else (the files its report.json
     * names, and those only), may be replaced; anything else at --out is the user's and stays.
     */
    static boolean isReplaceable(Path dir) {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) return false;
        try (var entries = Files.list(dir)) {
            Set<String> present = new TreeSet<>();
            for (Path p : entries.toList()) {
                if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) return false;
                present.add(p.getFileName().toString());
            }
            if (present.isEmpty()) return true;
            if (!present.contains("report.json")) return false;
            JsonNode summary = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
            Set<String> own = new HashSet<>(List.of("report.json", "index.html"));
            for (JsonNode table : summary.path("tables")) {
                own.add(table.asText() + ".csv");
                own.add(table.asText() + ".json");
            }
            for (JsonNode figure : summary.path("figures")) {
                own.add(figure.asText() + ".png");
                own.add(figure.asText() + ".svg");
            }
            return own.containsAll(present);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Where the report will be once finished. */
    public Path dir() {
        return target;
    }

    /** A one-line remark, such as a default the model at hand could not honour. */
    public void note(String text) {
        out.println("note: " + text);
        items.add(new Note(text));
    }

    /** Printed output that is not a table (test_prompt's lines, a list of neurons). */
    public void block(String heading, String text) {
        out.println(heading);
        out.println(text);
        items.add(new Block(heading, text));
    }

    public void table(Table table) {
        out.println(table.render());
        write(table.name() + ".csv", table.csv());
        write(table.name() + ".json", table.json());
        items.add(new TableItem(table));
    }

    public void figure(Figure figure) {
        if (!FONTS_FOUND) {
            if (!warnedNoFonts) note("this machine has no fonts, so figures are not drawn (install a font package, e.g. fonts-dejavu-core, "
                    + "to have them); every table is written.");
            warnedNoFonts = true;
            return;
        }
        try {
            BitmapEncoder.saveBitmap(figure.chart(), dir.resolve(figure.name() + ".png").toString(), BitmapEncoder.BitmapFormat.PNG);
            VectorGraphicsEncoder.saveVectorGraphic(figure.chart(), dir.resolve(figure.name()).toString(),
                    VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
        } catch (IOException e) {
            throw new JlensException("cannot write figure " + dir.resolve(figure.name()) + " (" + JlensException.describe(e) + ").", e);
        }
        items.add(new FigureItem(figure));
    }

    /** An interactive view in index.html at this point, under a heading (the PNG and SVG figures stay as they are). */
    public void view(String title, View view) {
        items.add(new ViewItem(title, view));
    }

    /** The names of the figures written so far. */
    public List<String> figureNames() {
        return items.stream().filter(i -> i instanceof FigureItem).map(i -> ((FigureItem) i).figure().name()).toList();
    }

    /** Writes index.html and report.json (the tables' and figures' names, the notes). */
    public void finish() {
        StringBuilder html = new StringBuilder("""
                <!DOCTYPE html>
                <html><head><meta charset="utf-8"><title>%s</title>
                <style>
                body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
                table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.85em; }
                th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
                td.n { text-align: right; font-variant-numeric: tabular-nums; }
                pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; }
                img { max-width: 100%%; border: 1px solid #eee; }
                .note { color: #8a4b00; }
                </style></head><body>
                <h1>%s</h1>
                """.formatted(Html.escape(title), Html.escape(title)));
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode summary = mapper.createObjectNode().put("title", title);
        ArrayNode notes = summary.putArray("notes"), tables = summary.putArray("tables"), figures = summary.putArray("figures");
        counts.forEach(summary.putObject("counts")::put);
        int views = 0;
        for (Item item : items) {
            switch (item) {
                case Note n -> {
                    html.append("<p class=\"note\">").append(Html.escape(n.text())).append("</p>\n");
                    notes.add(n.text());
                }
                case Block b -> html.append("<h3>").append(Html.escape(b.heading())).append("</h3>\n<pre>").append(Html.escape(b.text()))
                        .append("</pre>\n");
                case TableItem t -> {
                    html.append("<h3>").append(Html.escape(t.table().title())).append("</h3>\n<p><a href=\"").append(t.table().name())
                            .append(".csv\">csv</a> · <a href=\"").append(t.table().name()).append(".json\">json</a></p>\n")
                            .append(t.table().html());
                    tables.add(t.table().name());
                }
                case FigureItem f -> {
                    String name = f.figure().name();
                    html.append("<h3>").append(Html.escape(f.figure().title())).append("</h3>\n<p><img src=\"").append(name)
                            .append(".png\" alt=\"").append(Html.escape(f.figure().title())).append("\"><br><a href=\"").append(name)
                            .append(".svg\">svg</a></p>\n");
                    figures.add(name);
                }
                case ViewItem v -> {
                    html.append("<h3>").append(Html.escape(v.title())).append("</h3>\n").append(v.view().html());
                    views++;
                }
            }
        }
        if (views > 0) html.append(View.assets());
        summary.put("views", views);
        html.append("</body></html>\n");
        write("index.html", html.toString());
        try {
            write("report.json", mapper.writerWithDefaultPrettyPrinter().writeValueAsString(summary));
            replaceTarget();
        } catch (IOException e) {
            throw new JlensException("cannot move the report into " + target + " (" + JlensException.describe(e) + ").", e);
        }
        finished = true;
        out.println("wrote " + target.resolve("index.html"));
    }

    /**
     * Moves the finished report to --out. What is there now is checked again (the user may have put
     * files there while the experiment ran): an earlier report is set aside under a temporary name,
     * the new one moved in, and only then the old one removed; anything else is left as it is.
     */
    private void replaceTarget() throws IOException {
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            Outputs.publishDirectory(dir, target);
            return;
        }
        if (!isReplaceable(target)) {
            throw new JlensException("--out " + target + ": was filled with other files while the experiment ran; they were left as they are, "
                    + "and the report was dropped.");
        }
        Path old = Outputs.temporaryDirectoryBeside(target);
        Files.delete(old);
        Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        Outputs.publishDirectory(dir, target);
        Outputs.discard(old);
    }

    /** Removes what an unfinished report wrote. */
    @Override
    public void close() {
        if (!finished) Outputs.discard(dir);
    }

    private void write(String name, String text) {
        Path file = dir.resolve(name);
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new JlensException("cannot write " + file + " (" + JlensException.describe(e) + ").", e);
        }
    }
}
