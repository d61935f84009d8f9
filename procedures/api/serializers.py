from rest_framework import serializers

from ..models import Agency, FeeItem, FormField, Procedure, ProcessingStep, RequiredDocument


class AgencySerializer(serializers.ModelSerializer):
    class Meta:
        model = Agency
        fields = ["id", "name", "kind", "identifier", "parent"]


class RequiredDocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = RequiredDocument
        fields = ["id", "name", "is_mandatory", "original_count", "copy_count", "allowed_types", "max_size_mb", "note"]


class FormFieldSerializer(serializers.ModelSerializer):
    class Meta:
        model = FormField
        fields = [
            "code",
            "label",
            "kind",
            "section",
            "required",
            "help_text",
            "choice_list",
            "min_value",
            "max_value",
            "max_length",
            "pattern",
        ]


class FeeItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = FeeItem
        fields = ["kind", "name", "amount", "condition_field", "condition_value"]


class ProcessingStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProcessingStep
        fields = ["order", "name", "role", "agency", "agency_rule", "duration_days"]


class ProcedureListSerializer(serializers.ModelSerializer):
    field = serializers.StringRelatedField()

    class Meta:
        model = Procedure
        fields = ["national_code", "name", "field", "level", "processing_days"]


class ProcedureDetailSerializer(ProcedureListSerializer):
    agencies = AgencySerializer(many=True)
    documents = RequiredDocumentSerializer(many=True)
    form_fields = FormFieldSerializer(many=True)
    fees = FeeItemSerializer(many=True)
    steps = ProcessingStepSerializer(many=True)

    class Meta(ProcedureListSerializer.Meta):
        fields = [
            *ProcedureListSerializer.Meta.fields,
            "applicant_type",
            "cutoff_time",
            "legal_basis",
            "result_type",
            "description",
            "conditions",
            "channel_online",
            "channel_counter",
            "channel_postal",
            "agencies",
            "documents",
            "form_fields",
            "fees",
            "steps",
        ]
