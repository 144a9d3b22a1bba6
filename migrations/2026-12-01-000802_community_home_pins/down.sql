DROP TABLE community.home_pins;
