"""The demo listings of Northwind Data Labs (``northwind-data``, the demo provider's organisation): four
published datasets (call-centre speech, clinical notes, instruction pairs, parliament speech), among them the one
whose AI Act documentation is complete, and a custom-collection service.
"""

from __future__ import annotations

from typing import Any

from marketplace.catalog.seed_records import DemoListing, listing, parts

#: The rest of the AI Act record of the one demo listing whose documentation is complete and signed off.
AI_ACT_COMPLETION: dict[str, Any] = {
    "original_purpose": "Quality assurance of customer-support calls; callers then consented to training use.",
    "gaps_remedy": "Version 2 adds callers over 75 recruited through a partner panel, and Spanish-only agents.",
    "group_distribution": [
        {"dimension": "language", "group": "en-US", "share_pct": 78},
        {"dimension": "language", "group": "es-US", "share_pct": 22},
        {"dimension": "region", "group": "US Northeast", "share_pct": 31},
        {"dimension": "region", "group": "US South", "share_pct": 38},
        {"dimension": "region", "group": "US West", "share_pct": 31},
        {"dimension": "caller age", "group": "18-34", "share_pct": 36},
        {"dimension": "caller age", "group": "35-64", "share_pct": 55},
        {"dimension": "caller age", "group": "65 and over", "share_pct": 9},
    ],
}

NORTHWIND_DATASETS: list[DemoListing] = [
    (
        "northwind-data",
        3,
        listing(
            "call-centre-speech-en-es-us",
            title="Call-centre speech, English and Spanish (US)",
            summary="1,200 hours of consented banking and retail support calls with verbatim transcripts.",
            description="Two-channel telephone recordings of customer-support calls from US banking and retail "
            "contact centres, with **verbatim transcripts**, speaker turns and call-reason labels.\n\n"
            "- 8 kHz audio, agent and caller on separate channels\n"
            "- Names, card digits and addresses replaced by typed placeholders and bleeped in the audio\n"
            "- Balanced across US regional accents and Spanish-speaking callers",
            tags=["call centre", "telephony", "customer support", "code-switching"],
            modality="audio",
            modality_details={
                "audio": {
                    "hours": 1200,
                    "speakers": 5400,
                    "sample_rate_hz": 8000,
                    "accents": ["Southern US", "New York", "Mexican Spanish", "Caribbean Spanish"],
                }
            },
            tasks=["asr", "speaker_identification", "classification"],
            industries=["bfsi", "retail_ecommerce"],
            languages=["en-US", "es-US"],
            countries=["US"],
            collection_start="2022-01-10",
            collection_end="2023-12-20",
            record_count=48_000,
            total_bytes=69_120_000_000,
            file_count=48_000,
            formats=["audio/wav", "application/jsonl"],
            collection_methods=["user_generated", "licensed_archive"],
            annotation_methods=["expert", "model_assisted"],
            annotator_qualifications="Native speakers with two years of transcription experience.",
            annotations_per_item=2,
            agreement_metric="wer",
            agreement_value=4.1,
            synthetic_share_pct=0,
            personal_data="yes",
            deidentification=["pseudonymised"],
            lawful_basis="consent",
            consent_obtained=True,
            opt_out_honoured=True,
            personal_data_notes="Callers consented to recording for model training; later opt-outs are removed "
            "in the next version.",
            sources=[
                {
                    "name": "Partner contact centres (recorded with consent)",
                    "license": "LicenseRef-northwind-collection",
                }
            ],
            storage_region="us",
            training_summary={
                "rights_basis": "rights_holder",
                "content_types": ["customer-support phone calls", "verbatim transcripts"],
                "crawled": False,
                "illegal_content_measures": "Every call was screened by reviewers; calls with threats, fraud "
                "attempts or payment-card data in clear were removed.",
            },
            update_frequency="quarterly",
            ai={
                "design_choices": "Two-channel audio keeps speaker turns; 8 kHz matches production telephony.",
                "collection_processes": "Calls recorded by three partner contact centres in 2022–2023, sampled per "
                "week to cover seasonal call reasons.",
                "data_origin": "Real customer calls, recorded for quality assurance; training use added by consent.",
                "annotation": "Two-pass verbatim transcription with disfluencies and overlaps marked.",
                "cleaning": "Calls under 30 s, hold music and IVR menus removed.",
                "assumptions": "Represents US retail-banking and e-commerce support calls only.",
                "suitability": "Telephony ASR and call-reason classification; not far-field speech.",
                "bias_examination": "Baseline word error rates compared across accent groups and genders.",
                "bias_mitigation": "Under-represented accents oversampled to at least 4 % of hours each.",
                "known_gaps": "Few callers over 75; no Spanish-only agents.",
                "bias_reviewer": "Dr. Lena Ortiz (independent linguist)",
                "bias_reviewed_on": "2024-02-14",
                # What the AI Act documentation pack needs beyond the record above (see marketplace.aiact.seed).
                **AI_ACT_COMPLETION,
            },
            files=[
                *parts("audio", 6, 11_500_000_000, "application/x-tar", "tar"),
                ("transcripts.jsonl", 412_000_000, "application/jsonl"),
            ],
        ),
        [
            ("call-0001.wav", "audio/wav", "A synthetic stand-in for a call (two tones, 0.8 s)"),
            ("call-0001.txt", "text/plain", "A transcript excerpt with its placeholders"),
        ],
    ),
    (
        "northwind-data",
        10,
        listing(
            "clinical-notes-deidentified-en",
            title="Clinical notes, de-identified (HIPAA Safe Harbor)",
            summary="310,000 outpatient notes with expert entity labels for clinical NER, Safe Harbor de-identified.",
            description="Free-text outpatient and discharge notes from US clinics, de-identified under the HIPAA "
            "Safe Harbor method and checked by an expert determination. Entities (conditions, drugs, dosages, "
            "tests, symptoms) are labelled by clinicians.",
            tags=["clinical", "EHR", "de-identified", "medical NLP"],
            modality="text",
            modality_details={"text": {"documents": 310_000, "tokens": 96_000_000}},
            tasks=["ner", "classification", "summarisation"],
            industries=["healthcare_life_sciences"],
            languages=["en"],
            countries=["US"],
            collection_start="2019-01-01",
            collection_end="2023-06-30",
            record_count=310_000,
            total_bytes=1_900_000_000,
            formats=["application/jsonl"],
            collection_methods=["licensed_archive"],
            annotation_methods=["expert"],
            annotator_qualifications="Registered nurses and physicians; two annotators per note, adjudicated.",
            annotations_per_item=2,
            agreement_metric="cohen_kappa",
            agreement_value=0.86,
            synthetic_share_pct=0,
            personal_data="yes",
            special_categories=["health"],
            deidentification=["hipaa_safe_harbor", "expert_determination"],
            lawful_basis="legitimate_interests",
            consent_obtained=False,
            opt_out_honoured=True,
            personal_data_notes="The 18 Safe Harbor identifiers are removed; an expert determination (2023) rates "
            "the re-identification risk as very small. Buyers must not attempt re-identification.",
            sources=[
                {
                    "name": "Partner health systems (business associate agreements)",
                    "license": "LicenseRef-northwind-clinical",
                }
            ],
            storage_region="us",
            update_frequency="yearly",
            ai={
                "design_choices": "Notes kept whole (not sentence-split) so document-level context survives.",
                "collection_processes": "Extracted from four health systems' EHR exports under BAAs.",
                "data_origin": "Clinical documentation written for patient care.",
                "annotation": "Clinician-labelled entities following an i2b2-derived guideline.",
                "cleaning": "Safe Harbor identifiers removed by rules and a model, then by human review.",
                "assumptions": "Outpatient primary care and cardiology dominate; inpatient notes are fewer.",
                "suitability": "Clinical NER and note classification in English; not for diagnosis.",
                "bias_examination": "Label distributions compared across age bands, sexes and the four sites.",
                "bias_mitigation": "Site-stratified splits; rare-condition notes oversampled for annotation.",
                "known_gaps": "Few paediatric notes; no notes from rural clinics.",
                "bias_reviewer": "Northwind clinical data board",
                "bias_reviewed_on": "2023-09-01",
            },
            files=[
                *parts("notes", 4, 470_000_000, "application/jsonl", "jsonl"),
                ("labels-schema.json", 14_200, "application/json"),
            ],
        ),
        [("notes-sample.jsonl", "application/jsonl", "Two de-identified notes with their entity spans")],
    ),
    (
        "northwind-data",
        20,
        listing(
            "multilingual-instruction-pairs",
            title="Multilingual instruction-tuning and preference pairs",
            summary="420,000 instruction–response pairs in 6 languages, with ranked alternatives for DPO.",
            description="Human-written instructions with responses written or edited by professional writers, "
            "plus two ranked alternatives per prompt for preference optimisation (RLHF, DPO).",
            tags=["instruction tuning", "RLHF", "DPO", "LLM"],
            modality="text",
            modality_details={"text": {"documents": 420_000, "tokens": 210_000_000}},
            tasks=["instruction_tuning", "preference", "evaluation_benchmark"],
            industries=["general", "it_telecom"],
            languages=["en", "de", "fr", "es", "ja", "pt-BR"],
            countries=["US", "DE", "FR", "ES", "JP", "BR"],
            collection_start="2024-02-01",
            collection_end="2024-11-30",
            record_count=420_000,
            total_bytes=2_600_000_000,
            formats=["application/jsonl"],
            collection_methods=["manual_curation", "synthetic"],
            annotation_methods=["expert", "model_assisted"],
            annotator_qualifications="Professional writers and translators, native in the target language.",
            annotations_per_item=3,
            agreement_metric="krippendorff_alpha",
            agreement_value=0.71,
            synthetic_share_pct=40,
            personal_data="no",
            deidentification=["none"],
            lawful_basis="not_applicable",
            sources=[
                {"name": "Northwind writer panel", "license": "LicenseRef-northwind-collection"},
                {
                    "name": "Seed prompts from public instruction sets",
                    "url": "https://example.org/seed-prompts",
                    "license": "CC-BY-4.0",
                },
            ],
            storage_region="eu",
            training_summary={
                "rights_basis": "rights_holder",
                "content_types": ["instruction and answer pairs", "translations"],
                "crawled": True,
                "crawl_details": "Seed prompts drawn in 2023 from public-domain and CC-licensed web pages by our "
                "own crawler (about 2,000 sites, mainly encyclopaedias and government portals).",
                "tdm_opt_out_handling": "The crawler obeyed robots.txt, W3C TDMRep (tdm-reservation) and "
                "ai.txt; pages of sites reserving text and data mining were never fetched.",
                "illegal_content_measures": "Hash-list and classifier filtering for CSAM and terrorist content, "
                "then manual review of every flagged pair.",
            },
            update_frequency="monthly",
            ai={
                "design_choices": "Each prompt has one gold response and two ranked alternatives.",
                "collection_processes": "Writers answered prompts in a review tool; alternatives were drafted by a "
                "model and ranked by three raters.",
                "data_origin": "Written for this dataset; 40 % of alternatives are model-generated.",
                "annotation": "Three raters rank the alternatives; ties are adjudicated.",
                "cleaning": "Near-duplicate prompts and responses with personal data removed.",
                "assumptions": "Prompts reflect general assistant use, not domain-specific work.",
                "suitability": "Supervised fine-tuning and preference optimisation of assistants.",
                "bias_examination": "Topic and register balance checked per language; refusal rates compared.",
                "bias_mitigation": "Prompts rebalanced across topics and politeness registers.",
                "known_gaps": "Japanese and Portuguese have half the volume of English.",
            },
            files=parts("pairs", 6, 430_000_000, "application/jsonl", "jsonl"),
        ),
        [("instructions-sample.jsonl", "application/jsonl", "Two instruction pairs, English and German")],
    ),
    (
        "northwind-data",
        45,
        listing(
            "parliament-speech-de-fr",
            title="Parliament speeches, German and French (TTS-grade)",
            summary="900 hours of studio-quality parliamentary speech, aligned at word level, for TTS and ASR.",
            description="Public plenary sessions of Swiss and Belgian parliaments, re-mastered and force-aligned. "
            "Speakers are public officials speaking in their public role.",
            tags=["parliament", "public speech", "TTS", "forced alignment"],
            modality="audio",
            modality_details={
                "audio": {
                    "hours": 900,
                    "speakers": 610,
                    "sample_rate_hz": 48000,
                    "accents": ["Swiss German", "Belgian French"],
                }
            },
            tasks=["tts", "asr"],
            industries=["government_defense", "media_entertainment"],
            languages=["de-CH", "fr-BE", "de", "fr"],
            countries=["CH", "BE"],
            collection_start="2015-01-01",
            collection_end="2024-06-30",
            record_count=240_000,
            total_bytes=310_000_000_000,
            formats=["audio/flac", "text/tab-separated-values"],
            collection_methods=["licensed_archive", "web_api"],
            annotation_methods=["model_assisted", "expert"],
            annotator_qualifications="Phoneticians review the forced alignments.",
            annotations_per_item=1,
            synthetic_share_pct=0,
            personal_data="yes",
            deidentification=["none"],
            lawful_basis="public_task",
            consent_obtained=False,
            opt_out_honoured=True,
            personal_data_notes="Voices of public officials in public sessions; takedown requests are honoured.",
            sources=[
                {
                    "name": "Swiss Parliament media archive",
                    "url": "https://example.org/parlament",
                    "license": "CC-BY-4.0",
                },
                {"name": "Belgian Chamber audio archive", "url": "https://example.org/chambre", "license": "CC0-1.0"},
            ],
            storage_region="ch",
            update_frequency="yearly",
            ai={
                "design_choices": "Only sessions with single-speaker segments longer than 5 s are kept.",
                "collection_processes": "Downloaded from the parliaments' public archives and APIs.",
                "data_origin": "Public records of parliamentary debate.",
                "annotation": "Model transcripts corrected against the official minutes; word-level alignment.",
                "cleaning": "Applause, overlapping speech and interpreters removed.",
                "assumptions": "Formal register; little spontaneous speech.",
                "suitability": "Voice building and formal-speech ASR.",
                "bias_examination": "Speaker time compared across genders and parties.",
                "bias_mitigation": "Speaker time capped at 2 hours per person.",
                "known_gaps": "Women are 31 % of speaking time; Romansh and Italian are missing.",
            },
            files=[
                *parts("flac", 8, 38000000000, "application/x-tar", "tar"),
                ("alignments.tsv", 2100000000, "text/tab-separated-values"),
            ],
        ),
        [],
    ),
]

# A custom-collection service (offering type custom): no files, so no version; buyers ask it for a quote.
NORTHWIND_SERVICE: DemoListing = (
    "northwind-data",
    1,
    {
        "external_id": "CUSTOM-CLINICAL-SPEECH",
        "slug": "custom-clinical-speech-collection",
        "title": "Custom clinical speech and notes collection",
        "summary": "Consented doctor–patient speech and clinical notes, collected and annotated to your spec.",
        "description": "Northwind Data Labs recruits clinicians and patients in the EU and US, records consented "
        "consultations, transcribes them verbatim and annotates medical entities. Every project ships with its "
        "provenance record, a de-identification report and, on request, the EU AI Act Article 10 record.",
        "offering_type": "custom",
        "service_modalities": ["audio", "text"],
        "tasks": ["asr", "ner"],
        "industries": ["healthcare_life_sciences"],
        "languages": ["en", "es", "de"],
        "annotator_qualifications": "Certified medical transcriptionists; entity labels reviewed by physicians.",
        "deidentification_offered": ["pseudonymised", "hipaa_safe_harbor", "expert_determination"],
        "ai_act_documentation": True,
        "lead_time_days": 45,
        "service_price_min": 2_500_000,
        "service_price_max": 15_000_000,
        "service_price_currency": "EUR",
        "personal_data": "yes",
    },
    [("notes-sample.jsonl", "application/jsonl", "Past work: two de-identified notes with their entity spans")],
)
