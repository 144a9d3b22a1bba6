DROP TABLE community.report_reasons;
DROP TABLE community.reports;
