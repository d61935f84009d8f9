from django.utils.translation import gettext_lazy
from rest_framework import serializers

from procedures.constants import ExemptionGroup, FeeChannel

from ..models import Payment


class FeeQuoteRequestSerializer(serializers.Serializer):
    procedure = serializers.CharField(help_text=gettext_lazy("Mã thủ tục, ví dụ 1.001193."))
    agency = serializers.CharField(required=False, allow_blank=True, help_text=gettext_lazy("Mã định danh cơ quan."))
    channel = serializers.ChoiceField(choices=FeeChannel.choices)
    answers = serializers.DictField(required=False, default=dict)
    exemption_group = serializers.ChoiceField(choices=ExemptionGroup.choices, required=False, allow_blank=True)


class FeeLineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    unit_amount = serializers.IntegerField()
    quantity = serializers.IntegerField()
    base = serializers.IntegerField()
    discount = serializers.IntegerField()
    exemption = serializers.IntegerField()
    total = serializers.IntegerField()
    legal_basis = serializers.CharField()
    discounts = serializers.ListField(child=serializers.DictField())
    refundable = serializers.BooleanField()


class FeeQuoteSerializer(serializers.Serializer):
    channel = serializers.CharField()
    on = serializers.DateField()
    lines = FeeLineSerializer(many=True)
    base = serializers.IntegerField()
    discount = serializers.IntegerField()
    exemption = serializers.IntegerField()
    total = serializers.IntegerField()
    legal_bases = serializers.ListField(child=serializers.CharField())
    exemption_group = serializers.CharField()
    exemption_proof = serializers.CharField()


class PaymentStartSerializer(serializers.Serializer):
    dossier = serializers.UUIDField(help_text=gettext_lazy("public_id của hồ sơ."))
    amount = serializers.IntegerField(
        required=False, help_text=gettext_lazy("Số tiền người nộp đã thấy; khác tổng phải nộp thì bị từ chối.")
    )


class PaymentSerializer(serializers.ModelSerializer):
    dossier = serializers.UUIDField(source="dossier.public_id")
    state_display = serializers.CharField(source="get_state_display")
    redirect_url = serializers.CharField(read_only=True, required=False, default="")

    class Meta:
        model = Payment
        fields = [
            "public_id",
            "dossier",
            "reference",
            "provider",
            "method",
            "amount",
            "refunded_amount",
            "state",
            "state_display",
            "paid_at",
            "created_at",
            "redirect_url",
        ]


class IpnResponseSerializer(serializers.Serializer):
    RspCode = serializers.CharField(help_text="00, 01, 02, 04, 97 hoặc 99")
    Message = serializers.CharField()
