# Fan-out plots for docs/bench (issue 5). Called by bench/run-fanout.sh:
#   gnuplot -e "csv='fanout.csv'; ref='reference.csv'; outdir='docs/bench'" bench/plot/fanout.gp
# fanout.csv columns: server,workers,viewers,loss_pct,server_cpu_pct,egress_pps,rx_mbps,
#   rss_kb,connect_p99_ms,... (header line first; empty cells = not measured)
# reference.csv columns: viewers,ref_pps_per_core,ref_cpu_pct (ref_cpu_pct: the CPU the
#   reference loop needs for the measured egress packet rate; header line first)
if (!exists("csv")) csv = 'docs/bench/fanout.csv'
if (!exists("ref")) ref = 'docs/bench/reference.csv'
if (!exists("outdir")) outdir = 'docs/bench'

set datafile separator ','
set datafile missing ''
set key top left box opaque
set grid
set xlabel 'viewers'
set terminal pngcairo size 900,560 font ',11'

sel(s, w, col) = (strcol(1) eq s && $2 == w) ? column(col) : NaN

set output outdir.'/fanout_cpu.png'
set title 'Server CPU vs viewers (2.5 Mbit/s VP8 + Opus, one stream)'
set ylabel 'server CPU (% of one core)'
set yrange [0:*]
plot csv using 3:(sel("strata", 1, 5)) skip 1 with linespoints lw 2 pt 7 title 'Strata, 1 worker (core 0)', \
     csv using 3:(sel("strata", 2, 5)) skip 1 with linespoints lw 2 pt 5 title 'Strata, 2 workers (unpinned)', \
     csv using 3:(sel("janus", 0, 5)) skip 1 with linespoints lw 2 pt 9 title 'Janus streaming (core 0)', \
     ref using 1:3 skip 1 with linespoints lw 1 dt 2 pt 1 title 'reference limit (same egress pps)'

set output outdir.'/fanout_loss.png'
set title 'Viewer packet loss vs viewers'
set ylabel 'loss (%)'
set yrange [0:*]
plot csv using 3:(sel("strata", 1, 4)) skip 1 with linespoints lw 2 pt 7 title 'Strata, 1 worker (core 0)', \
     csv using 3:(sel("strata", 2, 4)) skip 1 with linespoints lw 2 pt 5 title 'Strata, 2 workers (unpinned)', \
     csv using 3:(sel("janus", 0, 4)) skip 1 with linespoints lw 2 pt 9 title 'Janus streaming (core 0)', \
     0.5 with lines lw 1 dt 3 lc rgb 'red' title '0.5 % threshold'

set output outdir.'/fanout_egress.png'
set title 'Egress packet rate vs viewers'
set ylabel 'packets/s delivered to viewers'
set yrange [0:*]
plot csv using 3:(sel("strata", 1, 6)) skip 1 with linespoints lw 2 pt 7 title 'Strata, 1 worker (core 0)', \
     csv using 3:(sel("strata", 2, 6)) skip 1 with linespoints lw 2 pt 5 title 'Strata, 2 workers (unpinned)', \
     csv using 3:(sel("janus", 0, 6)) skip 1 with linespoints lw 2 pt 9 title 'Janus streaming (core 0)', \
     ref using 1:2 skip 1 with lines lw 1 dt 2 title 'reference packets per CPU-second'
