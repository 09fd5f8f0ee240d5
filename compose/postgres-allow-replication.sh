#!/bin/sh
# Lets the `ha` profile's standby stream from this server (the image's pg_hba.conf allows only databases).
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
