package dev.jlens.experiments.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A printed table of a notebook: a title, named columns and rows, shown in the terminal as aligned
 * text and written as CSV and JSON. Floating-point cells print with six decimals, as pandas shows them.
 */
public final class Table {
    private final String name, title;
    private final List<String> columns;
    private final List<List<Object>> rows = new ArrayList<>();

    /** @param name the file stem (name.csv, name.json) */
    public Table(String name, String title, String... columns) {
        this.name = name;
        this.title = title;
        this.columns = List.of(columns);
    }

    public Table row(Object... values) {
        if (values.length != columns.size()) {
            throw new IllegalArgumentException(values.length + " values for the " + columns.size() + " columns of " + name);
        }
        rows.add(Arrays.asList(values));
        return this;
    }

    public String name() {
        return name;
    }

    public String title() {
        return title;
    }

    public List<String> columns() {
        return columns;
    }

    public List<List<Object>> rows() {
        return rows;
    }

    static String cell(Object v) {
        if (v instanceof Double || v instanceof Float) return String.format(Locale.ROOT, "%.6f", ((Number) v).doubleValue());
        if (v instanceof Boolean b) return b ? "True" : "False"; // as pandas prints them
        return String.valueOf(v);
    }

    /** The aligned text the terminal shows. */
    public String render() {
        int[] width = new int[columns.size()];
        for (int c = 0; c < width.length; c++) width[c] = columns.get(c).length();
        for (List<Object> row : rows) for (int c = 0; c < width.length; c++) width[c] = Math.max(width[c], cell(row.get(c)).length());
        StringBuilder s = new StringBuilder(title).append('\n');
        appendLine(s, columns.stream().map(Object.class::cast).toList(), width);
        for (int c = 0; c < width.length; c++) s.append(c == 0 ? "" : "  ").append("-".repeat(width[c]));
        s.append('\n');
        for (List<Object> row : rows) appendLine(s, row, width);
        return s.toString();
    }

    private static void appendLine(StringBuilder s, List<Object> values, int[] width) {
        for (int c = 0; c < width.length; c++) {
            Object v = values.get(c);
            String text = cell(v);
            if (c > 0) s.append("  ");
            s.append(v instanceof Number ? " ".repeat(width[c] - text.length()) + text : text + " ".repeat(width[c] - text.length()));
        }
        s.setLength(s.length() - trailingSpaces(s));
        s.append('\n');
    }

    private static int trailingSpaces(StringBuilder s) {
        int n = 0;
        while (n < s.length() && s.charAt(s.length() - 1 - n) == ' ') n++;
        return n;
    }

    public String csv() {
        StringBuilder s = new StringBuilder();
        s.append(String.join(",", columns.stream().map(Table::csvCell).toList())).append('\n');
        for (List<Object> row : rows) s.append(String.join(",", row.stream().map(v -> csvCell(v instanceof Number ? String.valueOf(v) : cell(v))).toList())).append('\n');
        return s.toString();
    }

    private static String csvCell(String v) {
        return v.contains(",") || v.contains("\"") || v.contains("\n") ? "\"" + v.replace("\"", "\"\"") + "\"" : v;
    }

    /** {"title": ..., "columns": [...], "rows": [{column: value, ...}, ...]}, numbers at full precision. */
    public String json() {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("title", title);
        ArrayNode cols = root.putArray("columns");
        columns.forEach(cols::add);
        ArrayNode out = root.putArray("rows");
        for (List<Object> row : rows) {
            ObjectNode o = out.addObject();
            for (int c = 0; c < columns.size(); c++) {
                Object v = row.get(c);
                switch (v) {
                    case Integer i -> o.put(columns.get(c), i);
                    case Long l -> o.put(columns.get(c), l);
                    case Float f -> o.put(columns.get(c), f.doubleValue());
                    case Double d -> o.put(columns.get(c), d);
                    case Boolean b -> o.put(columns.get(c), b);
                    default -> o.put(columns.get(c), String.valueOf(v));
                }
            }
        }
        try {
            return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    String html() {
        StringBuilder s = new StringBuilder("<table>\n<tr>");
        for (String c : columns) s.append("<th>").append(Html.escape(c)).append("</th>");
        s.append("</tr>\n");
        for (List<Object> row : rows) {
            s.append("<tr>");
            for (Object v : row) s.append(v instanceof Number ? "<td class=\"n\">" : "<td>").append(Html.escape(cell(v))).append("</td>");
            s.append("</tr>\n");
        }
        return s.append("</table>\n").toString();
    }
}
