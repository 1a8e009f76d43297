package dev.jlens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Every report with interactive views, opened in headless Chromium (Debian's, driven through its
 * own chromedriver: Selenium Manager cannot download one here): each loads with no console error,
 * every view renders, and hovering changes what the view shows, which is the report's own JSON.
 */
class ReportViewsBrowserTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium"), CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    @TempDir
    static Path dir;
    static ChromeDriver driver;
    static final Map<String, Path> REPORTS = new LinkedHashMap<>();

    @BeforeAll
    static void startBrowserAndWriteReports() {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "Debian's chromium and chromium-driver are not installed (.ci/run installs them with apt-get)");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1100");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        driver = new ChromeDriver(service, options);
        for (String experiment : List.of("ioi", "an-neuron", "french-neuron", "solu-outliers", "sae-features")) {
            Path out = dir.resolve(experiment);
            // French-neuron probes every layer on 200 samples a language by default (30 s); 40 make the same views.
            CommandLineRun run = experiment.equals("french-neuron")
                    ? CommandLineRun.of("experiment", experiment, "--samples", "40", "--out", out.toString())
                    : CommandLineRun.of("experiment", experiment, "--out", out.toString());
            assertEquals(0, run.exitCode(), run.err());
            REPORTS.put(experiment, out);
        }
        Path view = dir.resolve("view");
        CommandLineRun run = CommandLineRun.of("view", "--prompt", "When John and Mary went to the shops, John gave the bag to", "--out", view.toString());
        assertEquals(0, run.exitCode(), run.err());
        REPORTS.put("view", view);
    }

    @AfterAll
    static void stopBrowser() {
        if (driver != null) driver.quit();
    }

    /** Opens a report and waits until every view says it has rendered; the console must hold no error. */
    private static List<WebElement> open(String report) {
        driver.get(REPORTS.get(report).resolve("index.html").toUri().toString());
        List<WebElement> views = driver.findElements(By.cssSelector(".jlens-view"));
        new WebDriverWait(driver, Duration.ofSeconds(20)).until(d -> views.stream().allMatch(v -> "true".equals(v.getAttribute("data-rendered"))));
        List<String> errors = new ArrayList<>();
        for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) if (e.getLevel().intValue() >= Level.SEVERE.intValue()) errors.add(e.getMessage());
        assertEquals(List.of(), errors, report + ": console errors");
        return views;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> data(WebElement view) {
        return (Map<String, Object>) ((JavascriptExecutor) driver).executeScript(
                "return JSON.parse(arguments[0].querySelector('script.jlens-data').textContent);", view);
    }

    private static String hover(WebElement view, WebElement target) {
        new Actions(driver).moveToElement(target).perform();
        return view.findElement(By.cssSelector(".jlens-readout")).getText();
    }

    /** The number a readout shows after its last {@code marker}. */
    private static double shown(String readout, String marker) {
        String rest = readout.substring(readout.lastIndexOf(marker) + marker.length()).trim();
        return Double.parseDouble(rest.split("\\s+")[0]);
    }

    private static void assertShows(double expected, double shown, String what) {
        assertEquals(expected, shown, 1e-5 * Math.max(1e-3, Math.abs(expected)), what);
    }

    private static double number(Object o) {
        return ((Number) o).doubleValue();
    }

    @Test
    void everyReportLoadsWithoutConsoleErrorsAndEveryViewRendersAndShowsItsJsonOnHover() {
        Map<String, Integer> kinds = new LinkedHashMap<>();
        for (String report : REPORTS.keySet()) {
            List<WebElement> views = open(report);
            assertTrue(!views.isEmpty(), report + " has views");
            for (WebElement view : views) {
                String kind = view.getAttribute("data-kind");
                kinds.merge(report + ":" + kind, 1, Integer::sum);
                Map<String, Object> d = data(view);
                switch (kind) {
                    case "token-activations", "feature" -> checkTokens(report, view, d, kind);
                    case "heatmap" -> checkHeatmap(report, view, d);
                    case "attention" -> checkAttention(report, view, d);
                    default -> throw new AssertionError(report + ": unknown view kind " + kind);
                }
            }
        }
        for (String expected : List.of("ioi:attention", "ioi:token-activations", "ioi:heatmap", "an-neuron:token-activations",
                "french-neuron:token-activations", "solu-outliers:token-activations", "sae-features:feature", "view:attention", "view:heatmap")) {
            assertTrue(kinds.containsKey(expected), "views written: " + kinds);
        }
    }

    /** Tokens shaded by value: the first, a middle and the last token of the first row (or example) each show their own value. */
    @SuppressWarnings("unchecked")
    private static void checkTokens(String report, WebElement view, Map<String, Object> d, String kind) {
        List<Map<String, Object>> rows = (List<Map<String, Object>>) d.get(kind.equals("feature") ? "examples" : "rows");
        List<Object> values = (List<Object>) rows.get(0).get("values");
        WebElement row = view.findElements(By.cssSelector(".jlens-tokens")).get(0);
        List<WebElement> tokens = row.findElements(By.cssSelector(".jlens-token"));
        assertEquals(values.size(), tokens.size(), report + ": a span per token");
        String before = view.findElement(By.cssSelector(".jlens-readout")).getText();
        for (int i : new int[] {0, tokens.size() / 2, tokens.size() - 1}) {
            String readout = hover(view, tokens.get(i));
            assertNotEquals(before, readout, report + ": hovering changes the readout");
            assertShows(number(values.get(i)), shown(readout, "\u2019"), report + " " + kind + " token " + i);
            before = readout;
        }
    }

    @SuppressWarnings("unchecked")
    private static void checkHeatmap(String report, WebElement view, Map<String, Object> d) {
        List<List<Object>> values = (List<List<Object>>) d.get("values");
        List<WebElement> cells = view.findElements(By.cssSelector("rect.jlens-cell"));
        assertEquals(values.size() * values.get(0).size(), cells.size(), report + ": a cell per value");
        for (WebElement cell : List.of(cells.get(0), cells.get(cells.size() / 2), cells.get(cells.size() - 1))) {
            int r = Integer.parseInt(cell.getAttribute("data-row")), c = Integer.parseInt(cell.getAttribute("data-col"));
            String readout = hover(view, cell);
            assertShows(number(values.get(r).get(c)), shown(readout.replaceAll("\\s*\\(.*\\)$", ""), ": "), report + " heatmap cell " + r + "," + c);
        }
    }

    /** Hovering a token shows where it attends most and with what weight, for the head chosen; choosing another head changes it. */
    @SuppressWarnings("unchecked")
    private static void checkAttention(String report, WebElement view, Map<String, Object> d) {
        List<Object> prompts = (List<Object>) d.get("prompts");
        Map<String, Object> prompt = (Map<String, Object>) prompts.get(0);
        List<List<List<List<Object>>>> patterns = (List<List<List<List<Object>>>>) prompt.get("patterns");
        int heads = ((List<Object>) d.get("heads")).size();
        for (int h : heads > 1 ? new int[] {0, heads - 1} : new int[] {0}) {
            if (heads > 1) new Select(view.findElements(By.cssSelector("select")).get(2)).selectByIndex(h);
            List<WebElement> tokens = view.findElements(By.cssSelector(".jlens-attention-tokens .jlens-token"));
            int q = tokens.size() - 1;
            String readout = hover(view, tokens.get(q));
            List<Object> row = patterns.get(0).get(h).get(q);
            double max = row.stream().mapToDouble(ReportViewsBrowserTest::number).max().orElseThrow();
            assertTrue(readout.contains("attends most to"), readout);
            assertShows(max, shown(readout, ": "), report + " attention head " + h);
            for (int k = 0; k <= q; k++) {
                assertShows(number(row.get(k)), Double.parseDouble(tokens.get(k).getAttribute("data-value")), report + " attention to key " + k);
            }
        }
    }

    /** The attention view of `jlens view`, as the README shows it (written to target/, and to -Djlens.screenshots when given). */
    @Test
    void screenshotOfTheAttentionView() throws Exception {
        List<WebElement> views = open("view");
        WebElement attention = views.stream().filter(v -> "attention".equals(v.getAttribute("data-kind"))).findFirst().orElseThrow();
        new Select(attention.findElements(By.cssSelector("select")).get(1)).selectByIndex(1);
        List<WebElement> tokens = attention.findElements(By.cssSelector(".jlens-attention-tokens .jlens-token"));
        hover(attention, tokens.get(tokens.size() - 1));
        Path shot = attention.getScreenshotAs(OutputType.FILE).toPath();
        assertTrue(Files.size(shot) > 10_000, "a screenshot of the view");
        Path target = Path.of("target", "attention-view.png");
        Files.copy(shot, target, StandardCopyOption.REPLACE_EXISTING);
        String keep = System.getProperty("jlens.screenshots");
        if (keep != null) Files.copy(shot, Path.of(keep).resolve("attention-view.png"), StandardCopyOption.REPLACE_EXISTING);
    }
}
