DROP TABLE community.conversation_members;
DROP TABLE community.messages;
DROP TABLE community.conversations;
DROP TABLE community.blocks;
