package dev.jlens.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.models.hub.ShippedModels;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.spark.launcher.JavaModuleOptions;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real standalone cluster on loopback: a Spark Master and a Worker started as processes from the
 * test's own jars; a job submitted to it gives what jlens cache gives; and when the Worker's
 * executor process is killed mid-job, Spark re-runs the lost tasks and the output is complete and
 * identical, with no row twice.
 */
class StandaloneClusterTest {
    @TempDir
    static Path dir;
    static Process master, worker;
    static String url;
    static Path masterLog, workerLog;

    @BeforeAll
    static void startCluster() throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString(), cp = System.getProperty("java.class.path");
        // The Worker builds each executor's command from SPARK_HOME/jars: a directory of links to the jars this test runs with,
        // marked as an installed distribution (a RELEASE file) rather than a source tree.
        Path home = dir.resolve("spark-home"), jars = home.resolve("jars");
        Files.createDirectories(jars);
        Files.writeString(home.resolve("RELEASE"), "Spark for jlens's tests\n");
        for (String entry : cp.split(java.io.File.pathSeparator)) {
            Path p = Path.of(entry);
            if (entry.endsWith(".jar") && Files.isRegularFile(p) && !Files.exists(jars.resolve(p.getFileName()))) Files.createSymbolicLink(jars.resolve(p.getFileName()), p);
        }
        int port = freePort();
        url = "spark://127.0.0.1:" + port;
        masterLog = dir.resolve("master.log");
        workerLog = dir.resolve("worker.log");
        List<String> options = List.of(JavaModuleOptions.defaultModuleOptionArray());
        master = start(javaBin, options, cp, home, masterLog, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", String.valueOf(port),
                "--webui-port", String.valueOf(freePort()));
        awaitPort(port, Duration.ofSeconds(60));
        worker = start(javaBin, options, cp, home, workerLog, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "2", "--memory", "2g",
                "--webui-port", String.valueOf(freePort()), "--work-dir", dir.resolve("work").toString(), url);
        awaitLog(masterLog, "Registering worker", Duration.ofSeconds(60));
        ActivationsCommand.extraConf = Map.of("spark.executor.extraClassPath", cp, "spark.driver.host", "127.0.0.1", "spark.driver.bindAddress", "127.0.0.1",
                "spark.task.maxFailures", "4");
    }

    @AfterAll
    static void stopCluster() throws InterruptedException {
        ActivationsCommand.extraConf = Map.of();
        for (Process p : new Process[] {worker, master}) {
            if (p == null) continue;
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    static Process start(String java, List<String> options, String cp, Path home, Path log, String main, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(java));
        command.addAll(options);
        // Spark's own INFO logging for the daemons (jlens's log4j2.properties keeps commands at WARN): the test reads their logs.
        command.addAll(List.of("-Xmx1g", "-Dlog4j2.configurationFile=org/apache/spark/log4j2-defaults.properties", "-cp", cp, main));
        command.addAll(List.of(args));
        ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        b.environment().put("SPARK_HOME", home.toString());
        b.environment().put("JAVA_HOME", System.getProperty("java.home"));
        b.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        b.environment().put("SPARK_SCALA_VERSION", "2.13");
        return b.start();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static void awaitPort(int port, Duration limit) throws Exception {
        long end = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < end) {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(200);
            }
        }
        throw new AssertionError("the Master did not listen on " + port + ": " + Files.readString(masterLog));
    }

    static void awaitLog(Path log, String text, Duration limit) throws Exception {
        long end = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < end) {
            if (Files.exists(log) && Files.readString(log).contains(text)) return;
            Thread.sleep(200);
        }
        throw new AssertionError("'" + text + "' never appeared in " + log + ": " + (Files.exists(log) ? Files.readString(log) : ""));
    }

    static List<Row> read(Path out) {
        SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false").getOrCreate();
        try {
            return spark.read().parquet(out.toString()).collectAsList();
        } finally {
            spark.stop();
        }
    }

    @Test
    void aJobOnTheClusterGivesWhatJlensCacheGives() throws Exception {
        Path corpus = dir.resolve("corpus.txt");
        Files.write(corpus, ActivationsLocalTest.corpus());
        Path out = dir.resolve("cluster-out");
        assertEquals(0, SparkCli.run("activations", "--model", ShippedModels.GPT2, "--corpus", corpus.toString(), "--names", ActivationsLocalTest.NAMES,
                "--out", out.toString(), "--master", url, "--partitions", "4"));
        ActivationsLocalTest.assertSame(ActivationsLocalTest.expected(ActivationsLocalTest.corpus()), read(out));
    }

    /** The executor killed while tasks run: Spark starts another and re-runs the lost tasks; nothing is missing or twice. */
    @Test
    void killingTheExecutorMidJobLosesNothingAndDuplicatesNothing() throws Exception {
        List<String> docs = new ArrayList<>();
        List<String> base = ActivationsLocalTest.corpus();
        for (int i = 0; i < 3000; i++) docs.add(base.get(i % base.size()) + " (" + i + ")");
        Path corpus = dir.resolve("long-corpus.txt");
        Files.write(corpus, docs);
        Path out = dir.resolve("fault-out");
        CompletableFuture<Integer> job = CompletableFuture.supplyAsync(() -> SparkCli.run("activations", "--model", ShippedModels.GPT2, "--corpus",
                corpus.toString(), "--names", ONE_HOOK, "--out", out.toString(), "--master", url, "--partitions", "24"));
        ProcessHandle executor = awaitExecutor(Duration.ofSeconds(120));
        Thread.sleep(5000); // the model loaded, some tasks done, others running
        assertTrue(!job.isDone(), "the job is still running when its executor is killed");
        executor.destroyForcibly();
        assertEquals(0, job.get(300, TimeUnit.SECONDS));
        assertTrue(Files.readString(workerLog).contains("exited with code 137"),
                "the worker saw its executor die: " + Files.readString(workerLog));
        ActivationsLocalTest.assertSame(ActivationsLocalTest.expected(docs, ONE_HOOK), read(out));
    }

    static final String ONE_HOOK = "blocks\\.1\\.hook_resid_post";

    /** The process's whole command line (ProcessHandle's may be cut short for a command this long). */
    static String commandLine(ProcessHandle p) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", String.valueOf(p.pid()), "cmdline"))).replace('\0', ' ');
        } catch (IOException | RuntimeException e) {
            return p.info().commandLine().orElse("");
        }
    }

    static String workerLogText() {
        try {
            return Files.readString(workerLog);
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** The executor JVM the Worker started (a descendant of the Worker's process). */
    static ProcessHandle awaitExecutor(Duration limit) throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < end) {
            Optional<ProcessHandle> found = worker.descendants().filter(p -> commandLine(p).contains("CoarseGrainedExecutorBackend")).findFirst();
            if (found.isPresent()) return found.get();
            Thread.sleep(100);
        }
        throw new AssertionError("no executor started: " + workerLogText());
    }
}
