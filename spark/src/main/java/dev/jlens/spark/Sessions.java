package dev.jlens.spark;

import java.util.Map;
import org.apache.spark.launcher.JavaModuleOptions;
import org.apache.spark.sql.SparkSession;

/** The Spark session a jlens job runs in. */
final class Sessions {
    private Sessions() {}

    /**
     * A session on {@code master}, unless spark-submit has named one already (its --master wins).
     * The web UI is off (a batch job, and no port to collide on); the JVM options jlens needs reach
     * the executors with Spark's own.
     */
    static SparkSession start(String app, String master, Map<String, String> extra) {
        SparkSession.Builder b = SparkSession.builder().appName(app).config("spark.ui.enabled", "false")
                .config("spark.executor.extraJavaOptions", executorJavaOptions())
                .config("spark.sql.parquet.compression.codec", "snappy");
        if (System.getProperty("spark.master") == null) b.master(master);
        extra.forEach(b::config);
        return b.getOrCreate();
    }

    /**
     * Spark's own module options for JDK 17+ (they open the Vector API module jlens computes with,
     * too), jlens's stack size, and the driver's jlens checkout (executors on its machine find the
     * shipped models there).
     */
    static String executorJavaOptions() {
        String home = System.getProperty("jlens.home");
        return JavaModuleOptions.defaultModuleOptions() + " -Xss4m" + (home == null ? "" : " -Djlens.home=" + home);
    }
}
