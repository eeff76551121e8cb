package io.jdispatch.bench;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Turns one run's measurements into the ratio table (Markdown) and a bar chart of the ratios (PNG). */
final class Report {
    /** One bar of the chart: ours / other, in time per operation (below 1: ours is faster). */
    record Ratio(String row, String against, double value, Double limit) {}

    private final List<Rows.Row> rows;
    private final Measurements m;
    private final String machine;

    Report(List<Rows.Row> rows, Measurements m, String machine) {
        this.rows = rows;
        this.m = m;
        this.machine = machine;
    }

    String markdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("# JDispatch benchmark report\n\n")
          .append("Machine: ").append(machine).append("\n\n")
          .append("All figures are time per operation (latency rows: the percentile itself), measured in this one run. ")
          .append("A ratio is ours / other: below 1 means ours is faster. Paired rows (forks of ours and the other ")
          .append("back to back, round after round): each side is its median fork, the ratio the median of the pairs' ")
          .append("ratios, listed below the table.\n\n")
          .append("| operation | ours | C floor | ours/floor | alternatives (value, ours/alt) | target | met |\n")
          .append("|---|---|---|---|---|---|---|\n");
        StringBuilder paired = new StringBuilder();
        for (Rows.Row r : rows) {
            Measurements.Value ours = m.get(r.ours());
            Measurements.Value floor = r.floor() == null ? null : m.get(r.floor());
            String floorPairs = r.floor() == null ? null : m.describePairs(r.ours(), r.floor());
            if (floorPairs != null) {
                paired.append("- ").append(floorPairs).append('\n');
            }
            StringBuilder alts = new StringBuilder();
            r.alternatives().forEach((label, key) -> {
                Measurements.Value v = m.get(key);
                if (alts.length() > 0) {
                    alts.append("; ");
                }
                alts.append(label).append(' ').append(fmt(v)).append(", ").append(ratio(r.ours(), key));
                String pairs = m.describePairs(r.ours(), key);
                if (pairs != null) {
                    paired.append("- ").append(pairs).append('\n');
                }
            });
            StringBuilder target = new StringBuilder();
            StringBuilder met = new StringBuilder();
            for (Rows.Target t : r.targets()) {
                if (target.length() > 0) {
                    target.append("; ");
                    met.append("; ");
                }
                target.append("ours/").append(t.against()).append(" <= ").append(t.maxRatio());
                Double x = ratioValue(r.ours(), referenceKey(r, t.against()));
                met.append(x == null ? "not measured" : x <= t.maxRatio() ? "yes" : "**no**");
            }
            sb.append("| ").append(r.operation()).append(" | ").append(fmt(ours)).append(" | ").append(fmt(floor))
              .append(" | ").append(ratio(r.ours(), r.floor())).append(" | ").append(alts).append(" | ").append(target)
              .append(" | ").append(met).append(" |\n");
        }
        if (paired.length() > 0) {
            sb.append("\nPaired forks, in the order they ran:\n\n").append(paired);
        }
        return sb.toString();
    }

    private static String referenceKey(Rows.Row r, String against) {
        return "floor".equals(against) ? r.floor() : r.alternatives().get(against);
    }

    List<Ratio> ratios() {
        List<Ratio> out = new ArrayList<>();
        for (Rows.Row r : rows) {
            if (r.floor() != null) {
                add(out, r, "C floor", r.floor(), "floor");
            }
            for (Map.Entry<String, String> a : r.alternatives().entrySet()) {
                add(out, r, a.getKey(), a.getValue(), a.getKey());
            }
        }
        return out;
    }

    private void add(List<Ratio> out, Rows.Row r, String label, String otherKey, String targetKey) {
        Double x = ratioValue(r.ours(), otherKey);
        if (x != null) {
            Double limit = r.targets().stream().filter(t -> t.against().equals(targetKey)).map(Rows.Target::maxRatio)
                    .findFirst().orElse(null);
            out.add(new Ratio(r.operation(), label, x, limit));
        }
    }

    /** A horizontal bar per ratio on a log scale, 1 marked; a target limit drawn as a red tick. */
    void writeChart(Path file) throws IOException {
        List<Ratio> ratios = ratios();
        int rowH = 22;
        int left = 520;
        int width = 1100;
        int plotW = width - left - 40;
        int height = 70 + rowH * Math.max(1, ratios.size()) + 40;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString("JDispatch: ours / other, time per operation (log scale; left of 1 = ours faster)", 20, 28);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        double lo = Math.log10(0.05);
        double hi = Math.log10(100);
        java.util.function.DoubleToIntFunction x = v -> left + (int) Math.round((Math.log10(Math.max(0.05, Math.min(100, v))) - lo) / (hi - lo) * plotW);
        int top = 50;
        int bottom = top + rowH * ratios.size();
        for (double tick : new double[] {0.1, 0.5, 1, 2, 5, 10, 50, 100}) {
            int tx = x.applyAsInt(tick);
            g.setColor(tick == 1 ? Color.BLACK : new Color(220, 220, 220));
            g.setStroke(new BasicStroke(tick == 1 ? 2f : 1f));
            g.drawLine(tx, top - 5, tx, bottom);
            g.setColor(Color.DARK_GRAY);
            g.drawString(tick + "x", tx - 10, bottom + 16);
        }
        int y = top;
        for (Ratio r : ratios) {
            g.setColor(Color.BLACK);
            String row = r.row().length() > 52 ? r.row().substring(0, 50) + "..." : r.row(); // keep "vs X" whole
            g.drawString(row + "  vs " + r.against(), 10, y + 15);
            int x0 = x.applyAsInt(1);
            int x1 = x.applyAsInt(r.value());
            boolean ok = r.limit() == null || r.value() <= r.limit();
            g.setColor(r.value() <= 1 ? new Color(60, 150, 80) : ok ? new Color(230, 160, 40) : new Color(200, 50, 50));
            g.fillRect(Math.min(x0, x1), y + 4, Math.max(2, Math.abs(x1 - x0)), rowH - 8);
            g.setColor(Color.BLACK);
            g.drawString(String.format("%.2fx", r.value()), Math.max(x0, x1) + 4, y + 15);
            if (r.limit() != null) {
                int lx = x.applyAsInt(r.limit());
                g.setColor(Color.RED);
                g.setStroke(new BasicStroke(2f));
                g.drawLine(lx, y + 1, lx, y + rowH - 1);
            }
            y += rowH;
        }
        g.dispose();
        ImageIO.write(img, "png", file.toFile());
    }

    private static String fmt(Measurements.Value v) {
        if (v == null) {
            return "n/a";
        }
        double ns = v.nsPerOp();
        if (ns >= 10_000_000) {
            return String.format("%.1f ms", ns / 1e6);
        }
        return ns >= 10_000 ? String.format("%.1f us", ns / 1e3) : String.format("%.1f ns", ns);
    }

    /** ours / other in time per op: the median of the pairs' ratios when the two ran paired. */
    private Double ratioValue(String oursKey, String otherKey) {
        if (otherKey == null) {
            return null;
        }
        Double paired = m.pairedRatio(oursKey, otherKey);
        if (paired != null) {
            return paired;
        }
        Measurements.Value ours = m.get(oursKey);
        Measurements.Value other = m.get(otherKey);
        return ours == null || other == null || other.nsPerOp() == 0 ? null : ours.nsPerOp() / other.nsPerOp();
    }

    /** "1.02x", or for paired rows "1.02x (5 pairs 0.97x-1.10x)": how far the pairs agree with their median. */
    private String ratio(String oursKey, String otherKey) {
        Double x = ratioValue(oursKey, otherKey);
        if (x == null) {
            return "n/a";
        }
        List<Double> pairs = otherKey == null ? List.of()
                : m.pairs(oursKey, otherKey).stream().map(Measurements.Pair::ratio).sorted().toList();
        return pairs.isEmpty() ? String.format("%.2fx", x)
                : String.format("%.2fx (%d pairs %.2fx-%.2fx)", x, pairs.size(), pairs.get(0), pairs.get(pairs.size() - 1));
    }
}
