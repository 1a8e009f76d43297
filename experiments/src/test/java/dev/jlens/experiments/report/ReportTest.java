package dev.jlens.experiments.report;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.JlensException;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
    @TempDir
    Path dir;
    private final PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());

    static Table table() {
        return new Table("t", "A, \"quoted\" table", "Name", "Value", "Flag").row("a,b", 1.5, true).row("c", 2, false);
    }

    @Test
    void tablesPrintAlignedAndWriteCsvAndJsonAtFullPrecision() {
        Table t = new Table("t", "T", "Name", "Value").row("a", 1.0 / 3).row("bb", 10);
        assertEquals("T\nName  Value\n----  --------\na     0.333333\nbb          10\n", t.render());
        assertEquals("Name,Value,Flag\n\"a,b\",1.5,True\nc,2,False\n", table().csv());
        assertTrue(table().json().contains("\"Value\" : 1.5") && table().json().contains("\"Flag\" : true"), table().json());
    }

    @Test
    void aFinishedReportAppearsWholeAndAnUnfinishedOneLeavesNothing() throws Exception {
        Path out = dir.resolve("report");
        try (Report r = new Report("R", out, quiet)) {
            r.table(table());
            r.figure(Figure.lines("line", "L", "x", "y", new double[] {0, 1}, Map.of("s", new double[] {1, 2})));
            assertFalse(Files.exists(out), "nothing at --out before the report is finished");
            r.finish();
        }
        for (String f : List.of("t.csv", "t.json", "line.png", "line.svg", "index.html", "report.json")) assertTrue(Files.isRegularFile(out.resolve(f)), f);

        Path failed = dir.resolve("failed");
        try (Report r = new Report("R", failed, quiet)) {
            r.table(table());
            // the experiment fails here: no finish()
        }
        assertFalse(Files.exists(failed));
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(out), left.toList(), "no hidden directory is left behind");
        }

        try (Report again = new Report("R2", out, quiet)) {
            again.finish();
        }
        assertFalse(Files.exists(out.resolve("t.csv")), "a finished report replaces the earlier one");

        Path other = dir.resolve("other");
        Files.createDirectories(other);
        Files.writeString(other.resolve("notes.txt"), "mine");
        JlensException e = assertThrows(JlensException.class, () -> new Report("R", other, quiet));
        assertEquals("--out " + other + ": exists and holds more than a jlens report; choose another directory "
                + "(jlens replaces only an empty directory or one of its own reports).", e.getMessage());
        Files.writeString(out.resolve("mine.txt"), "the user's, beside a report");
        assertThrows(JlensException.class, () -> new Report("R3", out, quiet), "a report with a file of the user's in it is the user's");
        assertEquals("the user's, beside a report", Files.readString(out.resolve("mine.txt")));

        // A folder filled while the experiment ran is left as it is, and the report dropped.
        Path late = dir.resolve("late");
        try (Report r = new Report("R", late, quiet)) {
            r.table(table());
            Files.createDirectories(late);
            Files.writeString(late.resolve("notes.txt"), "mine");
            assertThrows(JlensException.class, r::finish);
        }
        assertEquals("mine", Files.readString(late.resolve("notes.txt")));
        try (Stream<Path> left = Files.list(late)) {
            assertEquals(1, left.count(), "only the user's file");
        }
    }

    @Test
    void aLayerPastTheModelFallsBackToItsLastWithANoteThatSaysSo() throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        try (Report r = new Report("R", dir.resolve("layers"), new PrintStream(printed, true, UTF_8))) {
            assertEquals(2, Prompts.layer(2, 4, "The French neuron's layer", r));
            assertEquals("", printed.toString(UTF_8), "a layer the model has needs no note");
            assertEquals(3, Prompts.layer(9, 4, "The French neuron's layer", r));
        }
        assertEquals("note: The French neuron's layer, 9, is past this model's 4 layers; using layer 3, its last.\n",
                printed.toString(UTF_8).replace(System.lineSeparator(), "\n"));
    }
}
