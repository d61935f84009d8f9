"""`manage.py load_working_days`: the Government's published day-off and make-up-day changes as CalendarDay rows."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from procedures.working_days import WORKING_DAYS_FILE, working_days_load


class Command(BaseCommand):
    help = "Nạp lịch nghỉ, làm bù do Chính phủ công bố (mặc định procedures/demo/working_days_vn.json)."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(WORKING_DAYS_FILE), help="Tệp JSON lịch nghỉ, làm bù.")

    def handle(self, *args, file: str, **options):
        try:
            created, kept = working_days_load(path=Path(file))
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"Tệp lịch nghỉ, làm bù không hợp lệ: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(f"Lịch nghỉ, làm bù: {created} ngày thêm mới, {kept} ngày đã có giữ nguyên.")
        )
