set terminal pngcairo size 1200,800 noenhanced font ',10'
set output '/work/wt-service/bench/results/service_medium_np2.png'
set multiplot layout 2,1 title 'gossamer loadgen: 48 requests, concurrency 8, 0.526971 req/s'
set grid
set key top left
set xlabel 'request sent at (s since start)'
set ylabel 'latency (ms)'
plot '/work/wt-service/bench/results/service_medium_np2.png.dat' using 1:3 with points pt 7 ps 0.4 title 'end-to-end', \
     '' using 1:2 with points pt 7 ps 0.4 title 'time to first token'
set ylabel 'ms per token'
plot '/work/wt-service/bench/results/service_medium_np2.png.dat' using 1:4 with points pt 7 ps 0.4 title 'mean inter-token latency'
unset multiplot
