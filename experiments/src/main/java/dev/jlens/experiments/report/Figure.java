package dev.jlens.experiments.report;

import java.awt.Color;
import java.awt.Font;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.Histogram;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * One chart of a notebook, drawn with XChart: the kinds the notebooks plot with plotly (stacked
 * bars, histograms, lines, scatters, heatmaps with token labels). {@link Report} writes it as PNG and SVG.
 */
public record Figure(String name, String title, Chart<?, ?> chart) {
    private static final int WIDTH = 1000, HEIGHT = 560;

    static {
        System.setProperty("java.awt.headless", "true");
    }

    /** Plotly's RdBu, centred on zero: negative red, positive blue. */
    private static final Color[] RD_BU = {new Color(178, 24, 43), new Color(244, 165, 130), new Color(247, 247, 247),
        new Color(146, 197, 222), new Color(33, 102, 172)};

    /** One bar per category per series, stacked (notebook 000's per-layer norms). */
    public static Figure stackedBars(String name, String title, String xLabel, String yLabel, List<String> categories,
                                     Map<String, double[]> series) {
        CategoryChart c = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xLabel).yAxisTitle(yLabel).build();
        c.getStyler().setStacked(true);
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        series.forEach((label, values) -> c.addSeries(label, categories, boxed(values)));
        return new Figure(name, title, c);
    }

    /** Overlaid histograms, each series as a percentage of its values per bin when {@code percent}. */
    public static Figure histogram(String name, String title, String xLabel, Map<String, double[]> series, int bins, boolean percent) {
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        for (double[] v : series.values()) for (double x : v) { min = Math.min(min, x); max = Math.max(max, x); }
        if (!(max > min)) { min -= 0.5; max += 0.5; }
        CategoryChart c = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xLabel)
                .yAxisTitle(percent ? "percent" : "count").build();
        c.getStyler().setOverlapped(true);
        c.getStyler().setXAxisLabelRotation(45);
        c.getStyler().setXAxisDecimalPattern("0.###");
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        for (Map.Entry<String, double[]> s : series.entrySet()) {
            Histogram h = new Histogram(Arrays.stream(s.getValue()).boxed().toList(), bins, min, max);
            List<Double> y = h.getyAxisData();
            if (percent) y = y.stream().map(v -> 100 * v / Math.max(1, s.getValue().length)).toList();
            c.addSeries(s.getKey(), h.getxAxisData(), y);
        }
        return new Figure(name, title, c);
    }

    /** Lines over a numeric x axis. */
    public static Figure lines(String name, String title, String xLabel, String yLabel, double[] x, Map<String, double[]> series) {
        XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xLabel).yAxisTitle(yLabel).build();
        c.getStyler().setLegendVisible(series.size() > 1);
        series.forEach((label, y) -> c.addSeries(label, x, y).setMarker(SeriesMarkers.CIRCLE));
        return new Figure(name, title, c);
    }

    /** Lines over labelled points (components, neurons). */
    public static Figure labelledLines(String name, String title, String xLabel, String yLabel, List<String> labels, Map<String, double[]> series) {
        CategoryChart c = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xLabel).yAxisTitle(yLabel).build();
        c.getStyler().setDefaultSeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Line);
        c.getStyler().setXAxisLabelRotation(60);
        c.getStyler().setLegendVisible(series.size() > 1);
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        series.forEach((label, y) -> c.addSeries(label, labels, boxed(y)));
        return new Figure(name, title, c);
    }

    /** A labelled point for {@link #scatter}. */
    public record Label(String text, double x, double y) {}

    /** Points; each series is {x, y}; labels are drawn at their points. */
    public static Figure scatter(String name, String title, String xLabel, String yLabel, Map<String, double[][]> series, List<Label> labels) {
        XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xLabel).yAxisTitle(yLabel).build();
        c.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        c.getStyler().setMarkerSize(4);
        c.getStyler().setLegendVisible(series.size() > 1);
        for (Map.Entry<String, double[][]> s : series.entrySet()) {
            double[][] xy = s.getValue();
            if (xy[0].length > 0) c.addSeries(s.getKey(), xy[0], xy[1]);
        }
        for (Label l : labels) c.addAnnotation(new AnnotationText(l.text(), l.x(), l.y(), false));
        return new Figure(name, title, c);
    }

    /** A [rows][columns] grid, red below zero and blue above, as plotly's imshow with RdBu and midpoint 0. */
    public static Figure heatmap(String name, String title, String xLabel, String yLabel, List<String> xLabels, List<String> yLabels,
                                 double[][] values) {
        HeatMapChart c = new HeatMapChartBuilder().width(WIDTH).height(Math.max(HEIGHT, 60 + 18 * yLabels.size())).title(title)
                .xAxisTitle(xLabel).yAxisTitle(yLabel).build();
        double extent = 1e-12;
        List<Number[]> cells = new ArrayList<>();
        for (int r = 0; r < values.length; r++) {
            for (int col = 0; col < values[r].length; col++) {
                cells.add(new Number[] {col, r, values[r][col]});
                extent = Math.max(extent, Math.abs(values[r][col]));
            }
        }
        c.getStyler().setRangeColors(RD_BU).setMin(-extent).setMax(extent);
        c.getStyler().setXAxisLabelRotation(60);
        c.getStyler().setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        c.getStyler().setPlotContentSize(1.0);
        c.addSeries(title, xLabels, yLabels, cells);
        return new Figure(name, title, c);
    }

    /** A horizontal reference line at {@code y} on a line or scatter chart. */
    public Figure withMarkerLine(double y) {
        if (chart instanceof XYChart xy) xy.addAnnotation(new org.knowm.xchart.AnnotationLine(y, false, false));
        return this;
    }

    private static List<Double> boxed(double[] values) {
        return Arrays.stream(values).boxed().toList();
    }

}
