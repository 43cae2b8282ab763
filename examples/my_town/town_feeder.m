function mpc = town_feeder
% A made-up 11 kV radial feeder of eight buses for examples/my_town.yaml: a substation (bus 1)
% and two branches. MATPOWER case format version 2: impedances in p.u. on baseMVA and the
% buses' base kV, loads in MW / Mvar, line ratings (RATE_A) in MVA.
mpc.version = '2';
mpc.baseMVA = 10;

%% bus data
%	bus_i	type	Pd	Qd	Gs	Bs	area	Vm	Va	baseKV	zone	Vmax	Vmin
mpc.bus = [
	1	3	0	0	0	0	1	1	0	11	1	1.1	0.9;
	2	1	0.40	0.15	0	0	1	1	0	11	1	1.1	0.9;
	3	1	0.35	0.12	0	0	1	1	0	11	1	1.1	0.9;
	4	1	0.50	0.20	0	0	1	1	0	11	1	1.1	0.9;
	5	1	0.30	0.10	0	0	1	1	0	11	1	1.1	0.9;
	6	1	0.45	0.15	0	0	1	1	0	11	1	1.1	0.9;
	7	1	0.25	0.08	0	0	1	1	0	11	1	1.1	0.9;
	8	1	0.30	0.10	0	0	1	1	0	11	1	1.1	0.9;
];

%% generator data (the substation)
%	bus	Pg	Qg	Qmax	Qmin	Vg	mBase	status	Pmax	Pmin
mpc.gen = [
	1	0	0	10	-10	1.0	10	1	10	0	0	0	0	0	0	0	0	0	0	0	0;
];

%% branch data
%	fbus	tbus	r	x	b	rateA	rateB	rateC	ratio	angle	status	angmin	angmax
mpc.branch = [
	1	2	0.0050	0.0080	0	8	8	8	0	0	1	-360	360;
	2	3	0.0120	0.0110	0	6	6	6	0	0	1	-360	360;
	3	4	0.0150	0.0130	0	5	5	5	0	0	1	-360	360;
	4	5	0.0180	0.0150	0	4	4	4	0	0	1	-360	360;
	2	6	0.0140	0.0120	0	5	5	5	0	0	1	-360	360;
	6	7	0.0160	0.0140	0	4	4	4	0	0	1	-360	360;
	7	8	0.0200	0.0170	0	3	3	3	0	0	1	-360	360;
];
